package retrieval

import (
	"context"
	"testing"

	"storybot/knowledge"
)

// TestTitleNamesTheStory: among several stories, a question naming what
// one story's title names ("firefox") is read in that story, though another
// mentions it once beside a common word of the question ("users"); a
// common word of a title ("users") earns nothing.
func TestTitleNamesTheStory(t *testing.T) {
	fire := story("firefox", "Mozilla released Firefox 1.0 on Tuesday after two years of work.\n\nReviewers praised Firefox for its speed and its security.")
	fire.Title = "Firefox 1.0 released by Mozilla"
	ie := story("ie", "Microsoft said on Friday that people should stop using Internet Explorer 6.\n\nPC World found that Firefox users upgrade faster than others.")
	ie.Title = "Microsoft urges users to leave IE6"
	stories := []*knowledge.Story{fire, ie,
		story("windows", "Microsoft released a new version of Windows for its users.\n\nUsers said Windows would be cheaper."),
		story("xbox", "Microsoft cut the price of the Xbox for users.\n\nUsers bought more consoles."),
		story("office", "Microsoft updated Office for its users.\n\nUsers in schools pay less."),
		story("phones", "Phone users wait longer for updates.\n\nUsers of old phones get none.\n\nMost users never notice."),
		story("games", "Game users spend more each year.\n\nUsers buy skins.\n\nUsers play at night.")}
	ix, err := Build(context.Background(), stories, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ix.read(context.Background(), "what do users think of firefox")
	if err != nil {
		t.Fatal(err)
	}
	if ix.storyCoverage(r.question, 1) <= ix.storyCoverage(r.question, 0) {
		t.Fatal("the test wants the other story to cover more of the question")
	}
	if _, s := ix.pointedCandidates(r.question, r.cands); s != 0 {
		t.Errorf("read in story %d, want the one whose title names Firefox (0)", s)
	}
	if got := ix.titleCoverage(r.question, 1); got != 0 {
		t.Errorf("a title's common word (users) earns %.2f, want 0", got)
	}
}
