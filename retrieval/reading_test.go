package retrieval

import (
	"context"
	"testing"

	"storybot/knowledge"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"suprem", "suprem", 1, 0},
		{"suprm", "suprem", 1, 1}, // a letter left out
		{"goverment", "government", 2, 1},
		{"teh", "the", 1, 1},     // two letters swapped
		{"licen", "ličen", 1, 1}, // an accent left off
		{"hobbit", "hobbi", 1, 1},
		{"cartel", "castle", 1, 2},  // past the limit: limit+1
		{"strike", "strikes", 0, 1}, // a length gap past the limit
	}
	for _, tt := range tests {
		if got := editDistance([]rune(tt.a), []rune(tt.b), tt.limit); got != tt.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

// TestNormalizeQuestion: chat words are spelled out, and a lower-case word
// no story uses is corrected to the story's word one edit away, unless the
// embedder's vocabulary knows it as English; with no such vocabulary,
// nothing is corrected.
func TestNormalizeQuestion(t *testing.T) {
	body := "The Supreme Court upheld the indictment of Simon Ličen on Tuesday.\n\nHis hobby is sailing, and ppl say he is careful."
	ix, err := Build(context.Background(), []*knowledge.Story{story("court", body)}, Options{Embedder: fitEmbedder})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ q, want string }{
		{"did the suprme court uphold it", "did the supreme court uphold it"},
		{"who is simon licen", "who is simon ličen"},
		{"whats teh hobbit about", "what's the hobbit about"}, // "hobbit" is English, not "hobby" misspelt
		{"Suprme Court?", "Suprme Court?"},                    // capitalised: a name the story may lack
		{"how many ppl", "how many people"},
		{"waht is his hobby", "what is his hobby"}, // a question word misspelt
		{"wich court", "which court"},
		{"why is he bein careful", "why is he being careful"}, // the "g" chat drops
		{"is he sailin", "is he sailing"},
		{"is the cabin careful", "is the cabin careful"}, // no story word "cabing"
	}
	for _, tt := range tests {
		if got := ix.normalizeQuestion(tt.q); got != tt.want {
			t.Errorf("normalizeQuestion(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
	// Initials stand for the story's words; chat's stand for none.
	body2 := body + "\n\nAs reported by The New York Times, the Department of Homeland Security named six foreign terrorist organizations at First Avenue Rail. Cartels are foreign terrorist organizations, it said; a big old rival was not."
	initials, err := Build(context.Background(), []*knowledge.Story{story("court", body2)}, Options{Embedder: fitEmbedder})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ q, want string }{
		{"what did NYT report", "what did New York Times report"},
		{"what did the nyt report", "what did the New York Times report"}, // initials without a vowel, in lower case
		{"what is an FTO", "what is an foreign terrorist organizations"},
		{"what is an fto", "what is an foreign terrorist organizations"}, // no English word
		{"who runs the DHS", "who runs the Department of Homeland Security"},
		{"is it far", "is it far"},                   // a word, not F… A… R…
		{"what is FAR", "what is First Avenue Rail"}, // a name: once is enough
		{"what is BOR", "what is BOR"},               // "big old rival": common words, once
		// Three words of a question are looked up, however many it has.
		{"QQQ ZZZ XXQ NYT", "QQQ ZZZ XXQ NYT"},
		{"NYT QQQ ZZZ FTO", "New York Times QQQ ZZZ FTO"},
		{"lol what did the court uphold", " what did the court uphold"},
		{"what is an xyz", "what is an xyz"},
	} {
		if got := initials.normalizeQuestion(tt.q); got != tt.want {
			t.Errorf("normalizeQuestion(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
	// With a commoner word one edit away, the accented name still wins.
	licence := story("licence", "The licence was renewed. A license costs less. Each license lasts a year.")
	both, err := Build(context.Background(), []*knowledge.Story{story("court", body), licence}, Options{Embedder: fitEmbedder})
	if err != nil {
		t.Fatal(err)
	}
	if got := both.normalizeQuestion("who is simon licen"); got != "who is simon ličen" {
		t.Errorf("with license in another story: %q, want ličen", got)
	}
	plain, err := Build(context.Background(), []*knowledge.Story{story("court", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.normalizeQuestion("did the suprme court uphold it"); got != "did the suprme court uphold it" {
		t.Errorf("without a vocabulary: %q, want it unchanged", got)
	}
}

// TestPointedStory: with several stories, the answer comes from the story
// that holds most of the question, though another holds a sentence that
// matches more of its words by chance.
func TestPointedStory(t *testing.T) {
	bridge := story("bridge", "The mayor of Springfield opened the new river bridge on Monday.\n\nThe bridge cost the city ten million dollars and took two years to build.")
	collapse := story("collapse", "A bridge collapse in Shelbyville killed three workers.\n\nEngineers said the bridge design had a flaw, and the new bridge will be built of steel.")
	ix, err := Build(context.Background(), []*knowledge.Story{collapse, bridge}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := "how much did the springfield mayor's new bridge cost"
	r, err := ix.read(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	stories := map[int]bool{}
	for _, c := range r.cands {
		stories[ix.storyOf(c.sentence)] = true
	}
	if len(stories) < 2 {
		t.Fatalf("the test wants candidates from both stories, got %d", len(stories))
	}
	pointed, _ := ix.pointedCandidates(r.question, r.cands)
	for _, c := range pointed {
		if s := ix.stories[ix.storyOf(c.sentence)].ID; s != "bridge" {
			t.Errorf("candidate %q from story %s, want only the bridge story's", ix.sentenceText(c.sentence), s)
		}
	}
	a, err := ix.Ask(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || a.Citations[0].StoryID != "bridge" {
		t.Errorf("Ask(%q) = %+v, want a quote from the bridge story", q, a.Citations)
	}
}

// TestPointedStoryIrregularForm: a story that holds the question's verb in
// an irregular form ("upheld" for "uphold") holds it as much as one that
// spells it the same.
func TestPointedStoryIrregularForm(t *testing.T) {
	chile := story("chile", "The Supreme Court upheld the charges against the former dictator on Tuesday.\n\nThe court's ruling on the charges sent him to house arrest a day later.")
	italy := story("italy", "The regions asked the government to uphold the sentence of the Supreme Court, which had dropped the charges.\n\nA petition gathered eleven thousand signatures.")
	ix, err := Build(context.Background(), []*knowledge.Story{italy, chile}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := "did the supreme court uphold the charges"
	a, err := ix.Ask(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || a.Citations[0].StoryID != "chile" {
		t.Errorf("Ask(%q) = %+v, want a quote from the chile story", q, a.Citations)
	}
}

// TestQuotedFirst: neither a caption of a few words nor an interviewer's
// question is quoted first, and an interview's lead is not its question.
func TestQuotedFirst(t *testing.T) {
	body := "What made you take up wheelchair basketball after your accident?\n\nI was twenty when Tina McKenzie, a coach, asked me to try wheelchair basketball.\n\nTina McKenzie.\n\nMcKenzie later captained the national wheelchair basketball team in 2010."
	ix, err := Build(context.Background(), []*knowledge.Story{story("interview", body)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	if lead := ix.sentenceText(ix.leadSentence(0)); lead == "What made you take up wheelchair basketball after your accident?" {
		t.Errorf("the lead is the interviewer's question %q", lead)
	}
	a, err := ix.Ask(context.Background(), "who is tina mckenzie")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 {
		t.Fatalf("no citations: %+v", a)
	}
	if q := a.Citations[0].Quote; q == "Tina McKenzie." || interrogative(q) {
		t.Errorf("quoted %q first", q)
	}
}

// TestAnswerAfterQuestion: when an interviewer's question matches best, the
// statement after it is quoted first.
func TestAnswerAfterQuestion(t *testing.T) {
	body := "Wikinews spoke with the coach of the national wheelchair basketball team about the coming season.\n\n" +
		"What do you think about moving the world cup to another country?\n\n" +
		"Well, that would be sad for the players and their families.\n\n" +
		"The team trains in Melbourne four days a week, and the season starts in May."
	ix, err := Build(context.Background(), []*knowledge.Story{story("interview", body)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "what does she think about moving the world cup")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || a.Citations[0].Quote != "Well, that would be sad for the players and their families." {
		t.Errorf("citations %+v, want the answer after the interviewer's question first", a.Citations)
	}
}

// TestAnswerAfterLeadIn: what someone thinks follows a lead-in ending in a
// colon; the lead-in itself is not quoted first. Other questions may be
// answered by the lead-in itself.
func TestAnswerAfterLeadIn(t *testing.T) {
	body := "Mozilla released version 1.0 of the Firefox web browser on Tuesday after two years of work.\n\n" +
		"Here's what some reviewers have said about Firefox:\n\n" +
		"* \"Feature-studded and secure, Firefox 1.0 is a safer, better choice for browsing the web.\"\n\n" +
		"In his review, \"A Browser to End Browsers\", published in 2004, Walter Mossberg wrote:\n\n" +
		"* \"It is the best browser available today.\""
	ix, err := Build(context.Background(), []*knowledge.Story{story("firefox", body)}, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"what do reviewers think of firefox": `"Feature-studded and secure, Firefox 1.0 is a safer, better choice for browsing the web."`,
		"which review was published in 2004": `In his review, "A Browser to End Browsers", published in 2004, Walter Mossberg wrote:`,
	} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Citations) == 0 || a.Citations[0].Quote != want {
			t.Errorf("%q: citations %+v, want %s first", q, a.Citations, want)
		}
	}
}

// TestIrregularFormsCover: coverage, which the decline rule reads, counts
// an irregular form as its base word: "led" covers "leads", "found" covers
// "find".
func TestIrregularFormsCover(t *testing.T) {
	body := "The most radical approach is being led by Sebastian Gorka, the senior director for counterterrorism.\n\n" +
		"Investigators found the missing files in a storage unit near the airport."
	ix, err := Build(context.Background(), []*knowledge.Story{story("forms", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for q, g := range map[string]int{"who leads the radical approach": 0, "where did investigators find the files": 1} {
		if got := ix.coverage(ix.analyze(q), g); got < 0.99 {
			t.Errorf("coverage of %q by %q = %.2f, want 1", q, ix.sentenceText(g), got)
		}
	}
}
