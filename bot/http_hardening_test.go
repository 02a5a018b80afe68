package bot_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"storybot/bot"
	"storybot/bot/discordtest"
)

// TestHTTPRefusesUnknownTypesAtOnce: interaction types the bot does not
// handle (autocomplete 4, modal submit 5, an unknown 99) get 400 at once,
// not a 503 after the acknowledgement budget.
func TestHTTPRefusesUnknownTypesAtOnce(t *testing.T) {
	t.Parallel()
	h := startHTTP(t, bot.Config{Library: folderLibrary(t, writeStories(t), &countingEmbedder{})})
	for _, typ := range []int{4, 5, 99} {
		body, _ := json.Marshal(map[string]any{"id": discordtest.NewSnowflake(), "application_id": h.f.AppID(), "type": typ, "token": "x", "version": 1})
		sent := time.Now()
		resp, out := h.post(body, h.key, time.Now(), nil)
		took := time.Since(sent)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), "unknown interaction type") {
			t.Errorf("type %d: %d %s", typ, resp.StatusCode, out)
		}
		if took > time.Second {
			t.Errorf("type %d answered after %v", typ, took)
		}
	}
}

// TestHTTPRefusesReplays: the same signed request sent again, within the
// five minutes its timestamp is good for, is refused by its interaction id
// and not run again.
func TestHTTPRefusesReplays(t *testing.T) {
	t.Parallel()
	h := startHTTP(t, bot.Config{Library: folderLibrary(t, writeStories(t), &countingEmbedder{})})
	p := h.f.SlashCommand("ask", askOptions(question), member)
	if resp, body := h.interaction(p); resp.StatusCode != http.StatusOK {
		t.Fatalf("first: %d %s", resp.StatusCode, body)
	}
	body, _ := json.Marshal(p)
	resp, out := h.post(body, h.key, time.Now(), nil)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("replay: %d %s, want 409", resp.StatusCode, out)
	}
	if got := h.metrics.question("answered"); got != 1 {
		t.Errorf("%d answers, want 1: the replay ran again", got)
	}
}

// TestHTTPRefusesOversizedBodyBeforeReading: a declared body over the
// bound is refused at once, before a byte of it is read (the client here
// never sends it).
func TestHTTPRefusesOversizedBodyBeforeReading(t *testing.T) {
	t.Parallel()
	h := startHTTP(t, bot.Config{Library: folderLibrary(t, writeStories(t), &countingEmbedder{})})
	c, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 64<<20)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// TestRegisterMovesBetweenScopes: Register (HTTP serving) bulk-overwrites
// the configured scope and clears the other one, so moving between guild
// and global registration leaves no duplicate set behind.
func TestRegisterMovesBetweenScopes(t *testing.T) {
	t.Parallel()
	g := "333333333333333333"
	f := discordtest.New(t, discordtest.Config{Guilds: []string{g, "444444444444444444"}})
	s, err := f.NewSession(testToken)
	if err != nil {
		t.Fatal(err)
	}
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	steps := []struct {
		guilds      []string
		wantGuild   []string
		wantGlobal  []string
		description string
	}{
		{[]string{g}, wantCommands, nil, "per guild"},
		{nil, nil, wantCommands, "then globally"},
		{[]string{g}, wantCommands, nil, "then per guild again"},
	}
	for _, st := range steps {
		b, err := bot.New(bot.Config{Library: lib, GuildIDs: st.guilds})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = b.Register(ctx, s)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", st.description, err)
		}
		if got := commandNames(f.Commands(g)); !slices.Equal(got, st.wantGuild) {
			t.Errorf("%s: guild commands %v, want %v", st.description, got, st.wantGuild)
		}
		if got := commandNames(f.Commands("")); !slices.Equal(got, st.wantGlobal) {
			t.Errorf("%s: global commands %v, want %v", st.description, got, st.wantGlobal)
		}
	}
	checkRequests(t, f.Requests(), nil)
}
