package discordtest_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"storybot/bot/discordtest"
)

// identifyWith connects to the fake's gateway, identifies with shard (nil:
// none) and returns the close code, or 0 when READY came.
func identifyWith(t *testing.T, f *discordtest.Fake, token string, shard *[2]int) int {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(f.GatewayURL()+"/?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil { // HELLO
		t.Fatal(err)
	}
	d := map[string]any{"token": token, "intents": 0, "properties": map[string]any{"os": "linux"}}
	if shard != nil {
		d["shard"] = shard
	}
	frame, _ := json.Marshal(map[string]any{"op": 2, "d": d})
	if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
		t.Fatal(err)
	}
	for {
		_, msg, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			T string `json:"t"`
		}
		if json.Unmarshal(msg, &ev) == nil && ev.T == "READY" {
			return 0
		}
	}
}

// TestShardedIdentify: GET /gateway/bot recommends Config.Shards; an
// IDENTIFY with a shard outside its count is closed with 4010, one with
// too few shards (or none) with 4011, and the recommended ones get READY.
func TestShardedIdentify(t *testing.T) {
	t.Parallel()
	const token = "Bot shard-token"
	f := discordtest.New(t, discordtest.Config{Token: token, Shards: 2})
	s, err := f.NewSession(token)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := s.GatewayBot()
	if err != nil || gb.Shards != 2 {
		t.Fatalf("GET /gateway/bot: %+v %v, want 2 shards", gb, err)
	}
	for _, tc := range []struct {
		shard *[2]int
		want  int
	}{
		{&[2]int{2, 2}, 4010},
		{&[2]int{0, 0}, 4010},
		{nil, 4011},
		{&[2]int{0, 1}, 4011},
		{&[2]int{1, 2}, 0},
		{&[2]int{0, 2}, 0},
	} {
		if got := identifyWith(t, f, token, tc.shard); got != tc.want {
			t.Errorf("shard %v: close %d, want %d (0: READY)", tc.shard, got, tc.want)
		}
	}
}
