package retrieval

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
)

// TestRelationQuestions: "who is X's N" and "who is behind X" ask for a
// name related to X, not for X's title; "who's X's job" stays a role
// question, and "what started X" asks for a cause.
func TestRelationQuestions(t *testing.T) {
	tests := []struct {
		q    string
		want questionType
	}{
		{"who's ie's main competitor", askWho},
		{"who is miller's boss", askWho},
		{"who is behind the strikes", askWho},
		{"who's gorka", askRole},
		{"who is stephen miller", askRole},
		{"what is miller's job", askRole},
		{"who's miller's job", askRole},
		{"what started the fight", askWhy},
		{"what sparked the protests", askWhy},
	}
	for _, tt := range tests {
		if got := kindOf(tt.q); got != tt.want {
			t.Errorf("kindOf(%q) = %d, want %d", tt.q, got, tt.want)
		}
	}
}

func TestCaptionLike(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"Hill (right) with fellow 2012 presidential candidate Buddy Roemer.", true},
		{"pilgrims at Mecca's Grand Mosque in 2008.", true},
		{"Hill at the Lesser-known candidates forum in 2011", true},
		{"Saturday, September 12, 2015", true},
		{"President Obama has an agenda that represents the far left wing of his party.", false},
		{`"Cartels are foreign terrorist organizations," Miller said.`, false},
		{"Miller said the matter is \"not just a security mission\"", true},
		// Long: a statement the splitter cut, not a caption.
		{"It is a single-step, 5-cylinder engine (no compound) with superheated steam and consumes approx", false},
	}
	for _, tt := range tests {
		if got := captionLike(tt.s, len(words(tt.s))); got != tt.want {
			t.Errorf("captionLike(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestCaptionIsNotQuotedFirst: a picture's caption names the question's
// people but says nothing about them; the statement is quoted first.
func TestCaptionIsNotQuotedFirst(t *testing.T) {
	body := "Tom Hill is running for president.\n\nHill (right) with President Barack Obama at the forum on the economy.\n\n" +
		"Hill thinks that the president has an agenda that represents the far left wing of his party."
	ix, err := Build(context.Background(), []*knowledge.Story{story("hill", body)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "what does hill think about obama")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "far left wing") {
		t.Errorf("first quote %q, want the statement about Obama's agenda", a.Text)
	}
}

// TestCaptionIsNotQuotedInSupport: nor is it quoted after the answer; a
// name alone under a picture says nothing about the name.
func TestCaptionIsNotQuotedInSupport(t *testing.T) {
	body := "Preston, Australia On Saturday, Wikinews interviewed Tina McKenzie, a former member of the national wheelchair basketball team.\n\n" +
		"Tina McKenzie.\n\nMcKenzie played at the 2012 Summer Paralympics in London.\n\n" +
		"Tina McKenzie (left) with the team in 2009.\n\nThe team won a silver medal in 2000."
	ix, err := Build(context.Background(), []*knowledge.Story{story("mckenzie", body)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "who is tina mckenzie")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "former member") {
		t.Fatalf("first quote %q, want the one giving her role", a.Text)
	}
	for _, c := range a.Citations[1:] {
		if c.Quote == "Tina McKenzie." || strings.Contains(c.Quote, "(left)") {
			t.Errorf("a caption quoted in support: %q", a.Text)
		}
	}
}

// TestRankLinksFindTheParaphrase: WordNet's synonyms, through a word's base
// form, rank "began on August 10" above "had started to broadcast" for
// "when did … start", without counting in coverage, which the decline
// rule reads.
func TestRankLinksFindTheParaphrase(t *testing.T) {
	body := "South Korea had recently started to broadcast propaganda from loudspeakers after an 11-year lull, officials there said.\n\n" +
		"The broadcasts began on August 10 and South Korea says they will continue."
	ix, err := Build(context.Background(), []*knowledge.Story{story("korea", body)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	q := "when did the broadcasts start"
	a, err := ix.Ask(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "August 10") {
		t.Errorf("first quote %q, want the sentence that says when they began", a.Text)
	}
	qi := ix.analyze(ix.normalizeQuestion(q))
	began := 1 // the second sentence
	if got, linked := ix.coverage(qi, began), ix.rankCoverage(qi, began); linked <= got {
		t.Errorf("rank coverage %.3f, want more than coverage %.3f: began is a form of begin, a synonym of start", linked, got)
	}
}

// TestAnswerTypeWord: in "which newspaper reported …" the sentence naming
// The New York Times covers "newspaper" in part.
func TestAnswerTypeWord(t *testing.T) {
	ix := buildDefault(t, Options{Embedder: fitEmbedder})
	qi := ix.analyze("which newspaper reported the division in the white house")
	if qi.typeTerm < 0 || qi.terms[qi.typeTerm] != stem("newspaper") {
		t.Fatalf("type term %d in %q, want newspaper", qi.typeTerm, qi.terms)
	}
	nyt, division := -1, -1
	for g := range ix.nSents {
		switch text := ix.sentenceText(g); {
		case strings.Contains(text, "New York Times"):
			nyt = g
		case strings.Contains(text, "a division between"):
			division = g
		}
	}
	without := qi
	without.typeTerm = -1
	if got, base := ix.coverage(qi, nyt), ix.coverage(without, nyt); got <= base {
		t.Errorf("coverage of the New York Times sentence %.3f, want more than %.3f", got, base)
	}
	if got, base := ix.coverage(qi, division), ix.coverage(without, division); got != base {
		t.Errorf("coverage of a sentence naming no one new %.3f, want it unchanged at %.3f", got, base)
	}
}

// TestStoryTieGoesToTheStoryAboutIt: two stories hold all of "augusto
// pinochet"; the answer comes from the one that names him throughout, not
// from the one that names him once.
func TestStoryTieGoesToTheStoryAboutIt(t *testing.T) {
	about := "Former Chilean dictator Augusto Pinochet was placed under house arrest.\n\n" +
		"Pinochet is charged with nine counts of kidnapping.\n\nPinochet ruled Chile from 1973 until 1990.\n\nLawyers for Pinochet say he is unfit for trial."
	other := "The community was founded in 1969, and Chile, then ruled by the regime of general Augusto Pinochet, joined it.\n\n" +
		"Its members trade grain and copper.\n\nIts next meeting is in Lima."
	ix, err := Build(context.Background(), []*knowledge.Story{story("community", other), story("pinochet", about)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "who is augusto pinochet")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || a.Citations[0].StoryID != "pinochet" {
		t.Errorf("answered from %+v, want the story about Pinochet (%q)", a.Citations, a.Text)
	}
}

// TestStoryHits: with several stories, the pointed story's passages are
// read as if it were the only story: its best k in the fused ranking, best
// first, and none of another story's.
func TestStoryHits(t *testing.T) {
	other := story("bridge", "The old bridge over the river was closed to traffic on Monday.\n\n"+
		"Engineers said the bridge's cables had rusted, and repairs will take a year.\n\n"+
		"Cartels have nothing to do with it, the mayor said of the bridge.")
	stories := append(knowledge.Default(), other)
	ix, err := Build(context.Background(), stories, Options{Embedder: fitEmbedder})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := ix.search(context.Background(), "who supports military strikes on cartels", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.pool) <= 2 {
		t.Fatalf("pool of %d passages, want more than the 2 hits", len(res.pool))
	}
	for s := range ix.stories {
		hits := ix.storyHits(res, s, 3)
		if len(hits) == 0 || len(hits) > 3 {
			t.Errorf("story %s: %d hits, want 1–3", ix.stories[s].ID, len(hits))
		}
		for i, h := range hits {
			if ix.chunks[h.Chunk].Story != s {
				t.Errorf("story %s: hit %d from story %d", ix.stories[s].ID, i, ix.chunks[h.Chunk].Story)
			}
			if i > 0 && h.Score > hits[i-1].Score {
				t.Errorf("story %s: hit %d scores %.3f, above the one before (%.3f)", ix.stories[s].ID, i, h.Score, hits[i-1].Score)
			}
		}
	}
}

// TestHolderNamedWithoutAccents: a question corrected to the body's
// "Ličen" still finds the holder in a title that spells "Licen".
func TestHolderNamedWithoutAccents(t *testing.T) {
	st := story("licen", "Simon Ličen teaches sport management.\n\nShowing the games live might turn out to be less glamorous than it appears.")
	st.Title = "Wikinews interviews academic Simon Licen about the games"
	ix, err := Build(context.Background(), []*knowledge.Story{st}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	holder := holderTerms("what does ličen think about the games being live")
	if len(holder) == 0 {
		t.Fatal("no holder read")
	}
	if !ix.namesHolder(1, holder) {
		t.Errorf("holder %q not found through the title %q", holder, st.Title)
	}
}

// TestLeadIsNotANoticeAboutTheArticle: "This exclusive interview features
// first-hand journalism" is about the page, not the news, and is not the
// overview's lead.
func TestLeadIsNotANoticeAboutTheArticle(t *testing.T) {
	body := "This exclusive interview features first-hand journalism by a Wikinews reporter.\n\n" +
		"The satirical newspaper writes its headlines before its stories, its editor told Wikinews on Monday in New York.\n\n" +
		"Its writers pitch about six hundred headline ideas every week, and a dozen are kept."
	ix, err := Build(context.Background(), []*knowledge.Story{story("onion", body)}, Options{Embedder: fitEmbedder})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "tl;dr")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "writes its headlines before its stories") {
		t.Errorf("overview %q, want the news first", a.Text)
	}
	for _, c := range a.Citations {
		if strings.HasPrefix(c.Quote, "This exclusive interview") {
			t.Errorf("overview quotes the notice: %q", a.Text)
		}
	}
}
