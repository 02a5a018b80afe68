package bot

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// recordingRest stands in for the session's REST calls.
type recordingRest struct {
	mu        sync.Mutex
	calls     []string
	responses []*discordgo.InteractionResponse
	edits     []*discordgo.WebhookEdit
	followups []*discordgo.WebhookParams
}

func (r *recordingRest) InteractionRespond(_ *discordgo.Interaction, resp *discordgo.InteractionResponse, _ ...discordgo.RequestOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "respond")
	r.responses = append(r.responses, resp)
	return nil
}

func (r *recordingRest) InteractionResponseEdit(_ *discordgo.Interaction, e *discordgo.WebhookEdit, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "edit")
	r.edits = append(r.edits, e)
	return &discordgo.Message{}, nil
}

func (r *recordingRest) InteractionResponseDelete(*discordgo.Interaction, ...discordgo.RequestOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "delete")
	return nil
}

func (r *recordingRest) FollowupMessageCreate(_ *discordgo.Interaction, _ bool, p *discordgo.WebhookParams, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "followup")
	r.followups = append(r.followups, p)
	return &discordgo.Message{}, nil
}

func newTestCall(t *testing.T, rr *recordingRest) *call {
	t.Helper()
	b, err := New(Config{Library: retrieval.NewLibrary(nil)})
	if err != nil {
		t.Fatal(err)
	}
	i := &discordgo.Interaction{ID: "1", Token: "secret-interaction-token", AppID: "app"}
	return b.newCall(context.Background(), rr, i, func(_ context.Context, r *discordgo.InteractionResponse) error {
		return rr.InteractionRespond(i, r)
	})
}

// An error after a public deferral is an edit of the "thinking" message:
// the deferral fixed who sees it, and deleting it to follow up privately
// is a sequence Discord does not document. The cause is not shown.
func TestErrorAfterPublicDeferralEditsTheOriginal(t *testing.T) {
	rr := &recordingRest{}
	c := newTestCall(t, rr)
	c.replyOrEdit(true, false, errorReply(errors.New("embedder exploded")))
	if strings.Join(rr.calls, ",") != "edit" {
		t.Fatalf("calls %v, want one edit", rr.calls)
	}
	e := rr.edits[0]
	if e.Content == nil || !strings.Contains(*e.Content, "Something went wrong") || strings.Contains(*e.Content, "exploded") {
		t.Errorf("edit %+v", e)
	}
	if e.AllowedMentions == nil || e.AllowedMentions.Parse == nil || len(e.AllowedMentions.Parse) != 0 {
		t.Errorf("edit allowed mentions %+v", e.AllowedMentions)
	}

	// A private deferral is already private: the error is edited in.
	rr = &recordingRest{}
	c = newTestCall(t, rr)
	c.replyOrEdit(true, true, errorReply(retrieval.ErrNoIndex))
	if strings.Join(rr.calls, ",") != "edit" || rr.edits[0].Content == nil || !strings.Contains(*rr.edits[0].Content, "still loading") {
		t.Errorf("calls %v edits %+v", rr.calls, rr.edits)
	}
	if rr.edits[0].Embeds != nil || rr.edits[0].Components != nil {
		t.Error("an error edit sends empty embeds or components")
	}

	// Not deferred: an ephemeral first response.
	rr = &recordingRest{}
	c = newTestCall(t, rr)
	c.replyOrEdit(false, false, errorReply(errors.New("x")))
	if len(rr.responses) != 1 || rr.responses[0].Data.Flags != discordgo.MessageFlagsEphemeral || rr.responses[0].Data.AllowedMentions == nil {
		t.Errorf("responses %+v", rr.responses)
	}
}

func TestRedactKeepsInteractionTokenOutOfErrors(t *testing.T) {
	c := newTestCall(t, &recordingRest{})
	err := &url.Error{Op: "Patch", URL: "https://discord.com/api/v9/webhooks/app/secret-interaction-token/messages/@original", Err: context.DeadlineExceeded}
	got := c.redact(err)
	if strings.Contains(got.Error(), "secret-interaction-token") || !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("redact = %v", got)
	}
	if got := c.redact(errors.New("failed at /secret-interaction-token/")); strings.Contains(got.Error(), "secret-interaction-token") {
		t.Errorf("redact = %v", got)
	}
}

// TestReplayGuardIsBounded: ids are remembered for the window and at most
// max of them, oldest forgotten first.
func TestReplayGuardIsBounded(t *testing.T) {
	g := newReplayGuard(10*time.Minute, 3)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		if !g.add(id, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("%s refused", id)
		}
	}
	if g.add("b", t0.Add(time.Minute)) {
		t.Error("a replay of b within the window was accepted")
	}
	if !g.add("d", t0.Add(time.Minute)) || g.size() != 3 {
		t.Errorf("d: size %d, want 3 (a forgotten)", g.size())
	}
	if !g.add("e", t0.Add(10*time.Minute+30*time.Second)) || g.size() != 2 {
		t.Errorf("after the window: size %d, want 2 (d and e)", g.size())
	}
}

// TestEveryCommandHasAHandler: the dispatch table and the registered
// commands name the same commands.
func TestEveryCommandHasAHandler(t *testing.T) {
	cmds := Commands()
	for _, c := range cmds {
		if _, ok := commandHandlers[c.Name]; !ok {
			t.Errorf("command %q has no handler", c.Name)
		}
	}
	if len(commandHandlers) != len(cmds) {
		t.Errorf("%d handlers for %d commands", len(commandHandlers), len(cmds))
	}
}
