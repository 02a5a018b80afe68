package discordtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
)

// raw sends one JSON request to the fake as discordgo would, and returns
// the status and decoded error body.
func raw(t *testing.T, f *discordtest.Fake, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, "https://discord.com/api/v9"+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bot test-token")
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	return resp.StatusCode, m
}

// at walks an errors tree along path and returns the first error code
// there, or "".
func at(tree map[string]any, path string) string {
	node := tree
	for _, p := range strings.Split(path, ".") {
		if p == "" {
			continue
		}
		next, _ := node[p].(map[string]any)
		if next == nil {
			return ""
		}
		node = next
	}
	errs, _ := node["_errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func embedWith(desc string, fields ...map[string]any) map[string]any {
	e := map[string]any{"description": desc}
	if len(fields) > 0 {
		fs := make([]any, len(fields))
		for i, f := range fields {
			fs[i] = f
		}
		e["fields"] = fs
	}
	return e
}

func button(id string) map[string]any {
	return map[string]any{"type": 2, "style": 1, "label": "b", "custom_id": id}
}

func row(comps ...map[string]any) map[string]any {
	cs := make([]any, len(comps))
	for i, c := range comps {
		cs[i] = c
	}
	return map[string]any{"type": 1, "components": cs}
}

// TestFakeRefusesWhatDiscordRefuses: each body Discord refuses by its
// documented limits is refused by the fake when it is sent, with
// Discord's code (50035 Invalid Form Body and the errors tree naming the
// field, or 50006), not accepted and flagged later by the spec check.
func TestFakeRefusesWhatDiscordRefuses(t *testing.T) {
	t.Parallel()
	field := func(name, value string) map[string]any { return map[string]any{"name": name, "value": value} }
	many := func(n int, v any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	var fields26 []map[string]any
	for range 26 {
		fields26 = append(fields26, field("n", "v"))
	}
	messages := []struct {
		name string
		data map[string]any
		code float64
		at   string // path in the errors tree, for 50035
		want string // error code there
	}{
		{"content over 2,000", map[string]any{"content": strings.Repeat("a", 2001)}, 50035, "data.content", "BASE_TYPE_MAX_LENGTH"},
		{"11 embeds", map[string]any{"embeds": many(11, embedWith("x"))}, 50035, "data.embeds", "BASE_TYPE_MAX_LENGTH"},
		{"embeds over 6,000 characters", map[string]any{"embeds": many(2, embedWith(strings.Repeat("d", 3500)))}, 50035, "data.embeds", "MAX_EMBED_SIZE_EXCEEDED"},
		{"26 fields", map[string]any{"embeds": []any{embedWith("x", fields26...)}}, 50035, "data.embeds.0.fields", "BASE_TYPE_MAX_LENGTH"},
		{"blank field name", map[string]any{"embeds": []any{embedWith("x", field(" ", "v"))}}, 50035, "data.embeds.0.fields.0.name", "BASE_TYPE_REQUIRED"},
		{"blank field value", map[string]any{"embeds": []any{embedWith("x", field("n", ""))}}, 50035, "data.embeds.0.fields.0.value", "BASE_TYPE_REQUIRED"},
		{"duplicate custom_id", map[string]any{"content": "x", "components": []any{row(button("a"), button("a"))}}, 50035, "data.components.0.components.1.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED"},
		{"custom_id over 100", map[string]any{"content": "x", "components": []any{row(button(strings.Repeat("c", 101)))}}, 50035, "data.components.0.components.0.custom_id", "BASE_TYPE_MAX_LENGTH"},
		{"6 action rows", map[string]any{"content": "x", "components": []any{row(button("1")), row(button("2")), row(button("3")), row(button("4")), row(button("5")), row(button("6"))}}, 50035, "data.components", "BASE_TYPE_MAX_LENGTH"},
		{"empty message", map[string]any{"content": ""}, 50006, "", ""},
	}
	f := discordtest.New(t, discordtest.Config{AckTimeout: -1})
	for _, tc := range messages {
		p := f.SlashCommand("ask", nil, discordtest.Caller{GuildID: "1"})
		if err := f.RegisterInteraction(p); err != nil {
			t.Fatal(err)
		}
		status, body := raw(t, f, "POST", "/interactions/"+p.ID()+"/"+p.Token()+"/callback", map[string]any{"type": 4, "data": tc.data})
		if status != http.StatusBadRequest || body["code"] != tc.code {
			t.Errorf("%s: %d %v, want 400 code %v", tc.name, status, body, tc.code)
			continue
		}
		if tc.at != "" {
			tree, _ := body["errors"].(map[string]any)
			if got := at(tree, tc.at); got != tc.want || body["message"] != "Invalid Form Body" {
				t.Errorf("%s: errors %v, want %s at %s", tc.name, body["errors"], tc.want, tc.at)
			}
		}
		// Refused means not acknowledged: a good response still lands.
		if status, _ := raw(t, f, "POST", "/interactions/"+p.ID()+"/"+p.Token()+"/callback", map[string]any{"type": 4, "data": map[string]any{"content": "ok"}}); status != http.StatusNoContent {
			t.Errorf("%s: a valid callback after the refused one: %d", tc.name, status)
		}
	}

	commands := []struct {
		name string
		cmds []any
		at   string
		want string
	}{
		{"upper-case command name", []any{map[string]any{"name": "Ask", "type": 1, "description": "d"}}, "0.name", "APPLICATION_COMMAND_INVALID_NAME"},
		{"required option after an optional one", []any{map[string]any{"name": "ask", "type": 1, "description": "d", "options": []any{
			map[string]any{"type": 5, "name": "private", "description": "p"},
			map[string]any{"type": 3, "name": "question", "description": "q", "required": true},
		}}}, "0.options", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"},
		{"message command with a description", []any{map[string]any{"name": "Ask storybot", "type": 3, "description": "d"}}, "0.description", "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID"},
		{"chat command without a description", []any{map[string]any{"name": "ask", "type": 1}}, "0.description", "BASE_TYPE_REQUIRED"},
	}
	for _, tc := range commands {
		status, body := raw(t, f, "PUT", "/applications/"+f.AppID()+"/commands", tc.cmds)
		tree, _ := body["errors"].(map[string]any)
		if status != http.StatusBadRequest || body["code"] != 50035.0 || at(tree, tc.at) != tc.want {
			t.Errorf("%s: %d %v, want 400 50035 %s at %s", tc.name, status, body, tc.want, tc.at)
		}
	}
	if got := f.Commands(""); len(got) != 0 {
		t.Errorf("refused overwrites registered %d commands", len(got))
	}
}

// TestFakeExpiresInteractionTokens: 15 minutes after dispatch, on the
// fake's clock, the interaction's routes answer 401 50027 Invalid Webhook
// Token, as Discord does.
func TestFakeExpiresInteractionTokens(t *testing.T) {
	t.Parallel()
	f := discordtest.New(t, discordtest.Config{})
	p := f.SlashCommand("ask", nil, discordtest.Caller{GuildID: "1"})
	if err := f.RegisterInteraction(p); err != nil {
		t.Fatal(err)
	}
	if status, _ := raw(t, f, "POST", "/interactions/"+p.ID()+"/"+p.Token()+"/callback", map[string]any{"type": 5}); status != http.StatusNoContent {
		t.Fatalf("deferral: %d", status)
	}
	edit := "/webhooks/" + f.AppID() + "/" + p.Token() + "/messages/@original"
	f.Advance(14 * time.Minute)
	if status, body := raw(t, f, "PATCH", edit, map[string]any{"content": "minute 14"}); status != http.StatusOK {
		t.Fatalf("edit at minute 14: %d %v", status, body)
	}
	f.Advance(2 * time.Minute)
	for _, r := range []struct{ method, path string }{{"PATCH", edit}, {"POST", "/webhooks/" + f.AppID() + "/" + p.Token()}} {
		status, body := raw(t, f, r.method, r.path, map[string]any{"content": "minute 16"})
		if status != http.StatusUnauthorized || body["code"] != 50027.0 || body["message"] != "Invalid Webhook Token" {
			t.Errorf("%s at minute 16: %d %v, want 401 50027", r.method, status, body)
		}
	}
	if m, _ := f.Original(p.Token()); m == nil || m.Content != "minute 14" {
		t.Errorf("original after the refused edit: %+v", m)
	}
}

// TestFakeFollowupAfterDeferralEditsTheLoadingMessage: the first followup
// after a deferral replaces the "thinking" message instead of posting a
// new one, keeping the deferral's flags.
func TestFakeFollowupAfterDeferralEditsTheLoadingMessage(t *testing.T) {
	t.Parallel()
	f := discordtest.New(t, discordtest.Config{})
	p := f.SlashCommand("ask", nil, discordtest.Caller{GuildID: "1"})
	if err := f.RegisterInteraction(p); err != nil {
		t.Fatal(err)
	}
	if status, _ := raw(t, f, "POST", "/interactions/"+p.ID()+"/"+p.Token()+"/callback", map[string]any{"type": 5, "data": map[string]any{"flags": 64}}); status != http.StatusNoContent {
		t.Fatalf("deferral: %d", status)
	}
	hook := "/webhooks/" + f.AppID() + "/" + p.Token() + "?wait=true"
	if status, body := raw(t, f, "POST", hook, map[string]any{"content": "first"}); status != http.StatusOK {
		t.Fatalf("followup: %d %v", status, body)
	}
	m, ok := f.Original(p.Token())
	if !ok || m.Content != "first" || m.Flags&discordgo.MessageFlagsLoading != 0 || m.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Errorf("original = %+v, want the followup's content, ephemeral, no longer loading", m)
	}
	if n := len(f.Followups(p.Token())); n != 0 {
		t.Errorf("%d followups, want 0: the first replaced the loading message", n)
	}
	if status, _ := raw(t, f, "POST", hook, map[string]any{"content": "second"}); status != http.StatusOK {
		t.Fatal("second followup refused")
	}
	if fu := f.Followups(p.Token()); len(fu) != 1 || fu[0].Content != "second" {
		t.Errorf("followups = %+v, want the second as a new message", fu)
	}
}
