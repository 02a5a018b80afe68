package main

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
	"storybot/retrieval"
)

// TestQuestionKinds asks the built-in story one question of each kind, in
// the project's own words (not the natural set's), and checks the kind read,
// the outcome and the sentence quoted first.
func TestQuestionKinds(t *testing.T) {
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q, kind, outcome, first string
	}{
		{"What is this about?", "overview", "answer", "hinted at the use of military capabilities"},
		{"summarise the article", "overview", "answer", "hinted at the use of military capabilities"},
		{"TLDR", "overview", "answer", "hinted at the use of military capabilities"},
		{"key points?", "overview", "answer", "hinted at the use of military capabilities"},
		{"what does the article say", "overview", "answer", "hinted at the use of military capabilities"},
		{"can you tell me about this story", "overview", "answer", "hinted at the use of military capabilities"},
		{"tell me about it", "overview", "answer", "hinted at the use of military capabilities"},
		{"explain like im 5", "overview", "answer", "hinted at the use of military capabilities"},
		{"eli5", "overview", "answer", "hinted at the use of military capabilities"},
		{"so whats the big deal", "overview", "answer", "hinted at the use of military capabilities"},
		{"tell me about the strikes", "factoid", "answer", "supports military strikes"},
		{"what does the article say about gorka", "factoid", "answer", "Sebastian Gorka"},
		{"anything on sheinbaum?", "factoid", "answer", "Claudia Sheinbaum"},
		{"info on the cartels pls", "factoid", "answer", "Six Mexican cartels"},
		{"what's the deal with gorka", "factoid", "answer", "Sebastian Gorka"},
		{"what's miller's deal", "factoid", "answer", "Miller"},
		{"whats new with the cartels", "overview", "answer", "hinted at the use of military capabilities"},
		{"where does sheinbaum stand on an invasion", "stance", "answer", "would never tolerate"},
		{"who wrote this article", "meta", "answer", "Latin Times"},
		{"what year was it published", "meta", "answer", "2025"},
		{"link pls", "meta", "answer", "Latin Times"},
		{"whats the link to the article", "meta", "answer", "Latin Times"},
		{"how old is this article", "meta", "answer", "2025"},
		{"what are the sources for this", "meta", "answer", "Latin Times"},
		{"when did this happen", "meta", "closest", "2025"}, // the story is dated, not each event in it
		{"who published this and when", "meta", "answer", "Latin Times, 2025"},
		{"is miller for or against strikes", "stance", "closest", "Miller, despite his rhetoric"},
		{"what could strikes put at risk", "reason", "closest", "shut down cooperation"},
		{"is there a link between miller and gorka", "yesno", "closest", "Sebastian Gorka"}, // on the story's topic: hedged, not declined
		{"What is Stephen Miller's job?", "role", "answer", "Deputy Chief of Staff for Policy Stephen Miller"},
		{"who's gorka", "role", "answer", "senior director for counterterrorism"},
		{"who is trump", "role", "answer", "President Trump"}, // not "Trump's senior director", who is Gorka
		{"what did Sheinbaum say about an invasion", "stance", "answer", "would never tolerate"},
		{"who favors military strikes", "stance", "answer", "a faction supports military strikes"},
		{"why is miller cautious", "reason", "answer", "could shut down cooperation"},
		{"were six cartels designated as terrorist organizations", "yesno", "answer", "officially designated as foreign terrorist organizations"},
		{"is the white house united", "yesno", "answer", "a division between White House officials"}, // decided by the opposite
		{"any quotes from miller", "stance", "answer", "Miller said"},
		{"any quotes from gorka", "stance", "closest", "Sebastian Gorka"}, // named, never quoted
		{"what did the nyt report", "factoid", "answer", "As reported by The New York Times"},
		{"Who is the president of Mexico?", "role", "answer", "Claudia Sheinbaum"},
		{"What is the capital of France?", "factoid", "none", ""},
		{"who are the main people in this story", "people", "answer", "Stephen Miller"},
		{"whos involved", "people", "answer", "Stephen Miller"},
		{"which officials are mentioned in the article", "people", "answer", "Stephen Miller"},
		{"who is involved in the strikes", "role", "answer", "supports military strikes"}, // names what it asks about
	}
	for _, tt := range tests {
		a, err := ix.Ask(context.Background(), tt.q)
		if err != nil {
			t.Fatalf("%q: %v", tt.q, err)
		}
		if a.Kind != tt.kind || a.Outcome != tt.outcome {
			t.Errorf("%q: kind %s, outcome %s; want %s, %s (%q)", tt.q, a.Kind, a.Outcome, tt.kind, tt.outcome, a.Text)
			continue
		}
		if tt.first != "" && (len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, tt.first)) {
			t.Errorf("%q: first quote %q, want one holding %q", tt.q, a.Text, tt.first)
		}
		if a.Kind == "overview" && (len(a.Citations) < 2 || len(a.Citations) > 3) {
			t.Errorf("%q: an overview of %d sentences, want 2–3", tt.q, len(a.Citations))
		}
		if want := "The people it names most: Stephen Miller, President Trump, Claudia Sheinbaum and Sebastian Gorka."; a.Kind == "people" && (a.Preface != want || len(a.Citations) != 4) {
			t.Errorf("%q: %q with %d citations, want %q and where each is named", tt.q, a.Preface, len(a.Citations), want)
		}
	}
}

// TestWholeStoryQuestionsPickTheStory: with several stories, an overview or
// meta question is about the story its words point to; one that points to
// none lists what the bot knows.
func TestWholeStoryQuestionsPickTheStory(t *testing.T) {
	bees := &knowledge.Story{ID: "bees", Title: "Bees return to the valley", Publisher: "Valley News", Year: 2021,
		Body: "Bees returned to the valley in 2021 after three years of decline, beekeepers said on Monday.\n\nThe beekeeper Ada Crane counted 2,000 hives across the valley this spring.\n\nFarmers expect a larger apple harvest because of the bees."}
	ix, err := retrieval.Build(context.Background(), append(knowledge.Default(), bees), defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ q, story, first string }{
		{"tl;dr of the bees story", "bees", "Bees returned to the valley"},
		{"summarize the cartel article", "latin-times-2025-cartel-strikes", "Stephen Miller hinted"},
		{"who published the bee story", "bees", "Valley News"},
		{"what does the bee story say", "bees", "Bees returned to the valley"},
		{"what's new with the bees", "bees", "Bees returned to the valley"},
		{"link to the bee story", "bees", "Valley News"},
		{"tell me about the cartel story", "latin-times-2025-cartel-strikes", "Stephen Miller hinted"},
		{"who is in the bee story", "bees", "Ada Crane"},
	} {
		a, err := ix.Ask(context.Background(), tt.q)
		if err != nil || a.Outcome != "answer" || a.Citations[0].StoryID != tt.story || !strings.Contains(a.Citations[0].Quote, tt.first) {
			t.Errorf("%q: %v %+v", tt.q, err, a)
		}
	}
	a, err := ix.Ask(context.Background(), "tl;dr")
	if err != nil || !strings.HasPrefix(a.Text, "I know 2 stories") || len(a.Citations) != 2 {
		t.Errorf("tl;dr of two stories: %v %q", err, a.Text)
	}
	// The CLI, like the Discord embed, rebuilds the reply from the
	// citations: it must still say what the quotes are.
	var out strings.Builder
	printAnswer(&out, a)
	if !strings.HasPrefix(out.String(), "I know 2 stories; ask about one of them by what it is about.\n“") {
		t.Errorf("printAnswer of a list of stories:\n%s", out.String())
	}
}
