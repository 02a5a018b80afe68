package discordtest_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
)

// TestAttachments: a message with files is multipart/form-data, as
// discordgo sends it; the fake keeps the files as the message's
// attachments, and refuses what Discord refuses: more than 10 MiB (413,
// 40005), an attachments entry naming no uploaded file (50035), files on a
// deferral.
func TestAttachments(t *testing.T) {
	t.Parallel()
	f := discordtest.New(t, discordtest.Config{})
	s, got := openSession(t, f)
	interaction := func() *discordgo.Interaction {
		if err := f.DispatchInteraction(f.SlashCommand("ask", nil, discordtest.Caller{GuildID: "1"})); err != nil {
			t.Fatal(err)
		}
		return recv(t, got, "interaction").Interaction
	}
	code := func(err error) (int, int) {
		var rerr *discordgo.RESTError
		if errors.As(err, &rerr) && rerr.Message != nil {
			return rerr.Response.StatusCode, rerr.Message.Code
		}
		t.Fatalf("want a REST error, got %v", err)
		return 0, 0
	}
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	file := func(data []byte) []*discordgo.File {
		return []*discordgo.File{{Name: "chart.png", ContentType: "image/png", Reader: bytes.NewReader(data)}}
	}

	i := interaction()
	if err := s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	content := "the chart"
	if _, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content, Files: file(png)}); err != nil {
		t.Fatal(err)
	}
	m, _ := f.Original(i.Token)
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "chart.png" || m.Attachments[0].Size != len(png) {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	if data, ok := f.Attachment(m.Attachments[0].URL); !ok || !bytes.Equal(data, png) {
		t.Errorf("attachment bytes %q, %v", data, ok)
	}
	// An edit naming an attachment that was never uploaded.
	_, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Attachments: &[]*discordgo.MessageAttachment{{ID: "7", Filename: "gone.png"}}})
	if st, c := code(err); st != http.StatusBadRequest || c != 50035 {
		t.Errorf("unknown attachment id: %d %d, want 400 50035", st, c)
	}
	big := make([]byte, 10<<20+1)
	_, err = s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content, Files: file(big)})
	if st, c := code(err); st != http.StatusRequestEntityTooLarge || c != 40005 {
		t.Errorf("11 MiB file: %d %d, want 413 40005", st, c)
	}
	if m, _ := f.Original(i.Token); len(m.Attachments) != 1 {
		t.Errorf("refused edits changed the attachments: %+v", m.Attachments)
	}

	// Files on the first response itself.
	j := interaction()
	err = s.InteractionRespond(j, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Files: file(png)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := f.Original(j.Token); len(m.Attachments) != 1 {
		t.Errorf("callback with a file: attachments %+v", m.Attachments)
	}
	for _, err := range f.SpecErrors() {
		t.Error(err)
	}
}
