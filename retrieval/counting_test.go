package retrieval

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
)

func TestCountedNoun(t *testing.T) {
	for q, want := range map[string]string{
		"how many soldiers would be sent to mexico": stem("soldiers"),
		"How many cartels were designated?":         stem("cartels"),
		"how many people died":                      "",
		"how many ppl died in the stampede":         "",
		"how many were wounded":                     "",
		"how many died":                             "",
		"when was it published":                     "",
	} {
		if got := countedNoun(q); got != want {
			t.Errorf("countedNoun(%q) = %q, want %q", q, got, want)
		}
	}
}

// A number that counts something else is not the answer to "how many":
// the sentence is at most the closest the story comes.
func TestHowManyWantsWhatItCounts(t *testing.T) {
	body := "Six Mexican cartels were designated as terrorist organisations in February by the administration.\n\n" +
		"The army said 1,500 troops would guard the border with Mexico from March."
	ix, err := Build(context.Background(), []*knowledge.Story{story("cartels", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"how many cartels were designated as terrorist organisations": "Six",
		"how many troops would guard the border":                      "1,500",
	} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != OutcomeAnswer || !strings.Contains(a.Citations[0].Quote, want) {
			t.Errorf("%q: %s %q, want an answer holding %q", q, a.Outcome, a.Text, want)
		}
	}
	a, err := ix.Ask(context.Background(), "how many cartels were sent to guard the border")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome == OutcomeAnswer && !strings.Contains(a.Citations[0].Quote, "cartels") {
		t.Errorf("answered confidently from a sentence that counts something else: %q", a.Text)
	}
	a, err = ix.Ask(context.Background(), "how many soldiers were designated as terrorist organisations")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome == OutcomeAnswer {
		t.Errorf("answered confidently though no sentence counts soldiers: %q", a.Text)
	}
}

// An interviewer's question repeats the reader's words; the answer is the
// statement after it.
func TestQuestionSentencesAreNotAnswers(t *testing.T) {
	body := "Why did you decide to run for mayor of the town?\n\n" +
		"I decided to run because the library had closed and nobody else would reopen it."
	ix, err := Build(context.Background(), []*knowledge.Story{story("interview", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "why did you decide to run for mayor")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "library") {
		t.Errorf("first quote is not the statement: %+v", a)
	}
	if !interrogative(`He asked, "Why now?"`) || interrogative("He did not say why.") {
		t.Error("interrogative misreads a sentence")
	}
}

func TestHolderTerms(t *testing.T) {
	for q, want := range map[string]string{
		"what did trump himself say about the strikes": stem("trump"),
		"what does the labour party think about it":    stem("labour") + " " + stem("party"),
		"what does she think about moving the cup":     "",
		"who backs the strikes":                        "",
		"is miller for or against strikes":             stem("miller"),
		"where does sheinbaum stand on it":             stem("sheinbaum"),
		"does gorka favor strikes":                     stem("gorka"),
	} {
		if got := strings.Join(holderTerms(q), " "); got != want {
			t.Errorf("holderTerms(%q) = %q, want %q", q, got, want)
		}
	}
}

// A stance is someone's: a sentence about the topic that names no one
// who holds it is the closest the story comes, not the answer.
func TestStanceWantsItsHolder(t *testing.T) {
	body := "The council voted on Tuesday to close the old bridge to traffic for repairs.\n\n" +
		"Mayor Jane Ortiz said closing the bridge was the only safe choice."
	ix, err := Build(context.Background(), []*knowledge.Story{story("bridge", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "what does ortiz think about closing the bridge")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != OutcomeAnswer || !strings.Contains(a.Citations[0].Quote, "Ortiz") {
		t.Errorf("the holder's words: %s %q", a.Outcome, a.Text)
	}
	a, err = ix.Ask(context.Background(), "what does the governor think about the council closing the old bridge to traffic")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome == OutcomeAnswer {
		t.Errorf("answered confidently though no sentence gives the governor's view: %q", a.Text)
	}
}

// "Is Miller for or against strikes?" and "does Miller support strikes?"
// are answered by the sentence on Miller's approach, though the one on a
// faction that supports strikes shares more of the question's words: the
// holder's sentence goes first.
func TestStanceQuotesTheHolderFirst(t *testing.T) {
	ix := buildDefault(t, testOptions())
	for q, want := range map[string]string{
		"is miller for or against strikes": "Miller, despite his rhetoric",
		"is miller in favor of strikes":    "Miller, despite his rhetoric",
		"does miller support strikes":      "Miller, despite his rhetoric",
		"does gorka favor strikes":         "led by Sebastian Gorka",
	} {
		a := mustAsk(t, ix, q)
		if a.Outcome == OutcomeNone || !strings.Contains(a.Citations[0].Quote, want) {
			t.Errorf("Ask(%q) = %s %q, want the holder's sentence (%q) first", q, a.Outcome, a.Text, want)
		}
	}
}

// "How long" wants a span and "how much" a number: a sentence with
// neither is at most the closest the story comes.
func TestQuantityQuestionsWantAQuantity(t *testing.T) {
	body := "Estimates suggest 8000 migrants may be currently at sea in the region.\n\n" +
		"Smugglers transport migrants along routes that have changed since the crackdown.\n\n" +
		"The boat had drifted at sea for three weeks before it was found."
	ix, err := Build(context.Background(), []*knowledge.Story{story("boats", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for q, wantAnswer := range map[string]bool{
		"how long had the boat drifted at sea":                                true,
		"how much do smugglers charge to transport migrants along the routes": false,
	} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if (a.Outcome == OutcomeAnswer) != wantAnswer {
			t.Errorf("%q: %s %q, want answered %v", q, a.Outcome, a.Text, wantAnswer)
		}
	}
}

// "How much" about money wants a sum: a year or a count beside the
// question's words is at most the closest the story comes.
func TestHowMuchMoneyWantsASum(t *testing.T) {
	body := "My ties to the Republican party date back to 1979, when I volunteered for his campaign in New Hampshire.\n\n" +
		"The deal to merge the two retailers is worth $11.5bn, the companies said on Wednesday.\n\n" +
		"The city council met on Monday to discuss the new library."
	ix, err := Build(context.Background(), []*knowledge.Story{story("money", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for q, wantAnswer := range map[string]bool{
		"how much money did his campaign in new hampshire raise": false,
		"how much is the deal to merge the retailers worth":      true,
	} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if (a.Outcome == OutcomeAnswer) != wantAnswer {
			t.Errorf("%q: %s %q, want answered %v", q, a.Outcome, a.Text, wantAnswer)
		}
	}
	for q, want := range map[string]bool{
		"how much money has his campaign raised": true,
		"how much did the kit cost":              true,
		"how much salary will he lose":           true,
		"how much do they weigh":                 false,
		"how many stores will it have":           false,
	} {
		if got := howMuchMoney.MatchString(q); got != want {
			t.Errorf("howMuchMoney(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestSayQuestionWantsWords: "what did X say" is answered by a sentence
// that reports words, not by one that only names X.
func TestSayQuestionWantsWords(t *testing.T) {
	ix := buildDefault(t, testOptions())
	for _, tt := range []struct{ q, outcome, quote string }{
		{"what did gorka say", OutcomeClosest, "Sebastian Gorka"},
		{"what did miller say", OutcomeAnswer, "Miller said"},
		{"what did Sheinbaum say about an invasion", OutcomeAnswer, "would never tolerate"},
		{"what does gorka think", OutcomeAnswer, "Sebastian Gorka"}, // a position, not words
	} {
		a, err := ix.Ask(context.Background(), tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != tt.outcome || len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, tt.quote) {
			t.Errorf("%q: %s %q, want %s quoting %q", tt.q, a.Outcome, a.Text, tt.outcome, tt.quote)
		}
	}
}

// "According to" gives the words of whom it names: a sentence about the
// professor according to an index is not what the professor said; one
// according to the professor is.
func TestAccordingToGivesItsSourcesWords(t *testing.T) {
	body := "According to the Arts and Humanities Citation Index, Professor Noam Chomsky is among the most cited scholars alive.\n\n" +
		"The interview took place in his office in Cambridge on Thursday."
	ix := buildStory(t, "chomsky", body, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	a := mustAsk(t, ix, "what did chomsky say")
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "Citation Index") {
		t.Fatalf("the test wants the index's sentence first: %s %q", a.Outcome, a.Text)
	}
	if a.Outcome == OutcomeAnswer {
		t.Errorf("the index's words given as Chomsky's: %q", a.Text)
	}
	g := ix.storyBase[0] // the first sentence
	if !ix.givesWords(g, []string{stem("index")}) {
		t.Errorf("the sentence does not give the words of the index it names")
	}
}

// Casualty counts: "died" is answered by "were killed", and a number of
// people trampled or at sea is not a count of the injured or the dead.
func TestHowManyCasualties(t *testing.T) {
	body := "At least 76 people were killed when the hotel near the mosque collapsed last week.\n\n" +
		"In 1991, 1,426 pilgrims were trampled in a tunnel near the holy site.\n\n" +
		"Officials estimate that 8000 migrants are currently at sea in the region."
	ix, err := Build(context.Background(), []*knowledge.Story{story("hajj", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ix.Ask(context.Background(), "how many died in the hotel collapse")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != OutcomeAnswer || !strings.Contains(a.Citations[0].Quote, "76") {
		t.Errorf("how many died: %s %q, want the answer holding 76", a.Outcome, a.Text)
	}
	// The decline rule reads coverage: "killed" covers "died" there too.
	if got := ix.coverage(ix.analyze("how many died"), 0); got < synonymCredit {
		t.Errorf("coverage of %q by %q = %.2f, want at least %.2f", "how many died", ix.sentenceText(0), got, synonymCredit)
	}
	for _, q := range []string{"how many pilgrims were injured in the tunnel", "how many of the migrants at sea died", "did any migrants at sea get hurt"} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome == OutcomeAnswer {
			t.Errorf("%q: answered confidently from a number of other people: %q", q, a.Text)
		}
	}
}

// Only the casualty classes make a question one about casualties: "how
// much is it worth" is not hedged for lacking the dead and injured.
func TestCasualtyWord(t *testing.T) {
	for q, want := range map[string]string{
		"how many ppl died in the stampede":   "died",
		"how many died in the stampede":       "died",
		"How many were wounded?":              "wounded",
		"did any fans get hurt":               "hurt",
		"was anyone hurt":                     "hurt",
		"how many pilgrims attended the hajj": "",
		"who died":                            "died",
		"who won":                             "",
		"how much is the deal worth":          "",
		"who backs the strikes":               "",
	} {
		if got := casualtyWord(q); got != want {
			t.Errorf("casualtyWord(%q) = %q, want %q", q, got, want)
		}
	}
}

// TestCountsNoun: a number counts the noun it stands before, over the
// words between them ("nearly 3,500 retail stores"), but not a year that
// names the event it comes before, nor a noun past "each": "one vote in
// each referendum" counts votes.
func TestCountsNoun(t *testing.T) {
	body := "McKenzie retired from the game after the 2012 Summer Paralympics in London.\n\n" +
		"In March, 2000 soldiers were sent to the border.\n\n" +
		"In the end I'll have one vote in each referendum.\n\n" +
		"The government intends to hold two referendums on the flag.\n\n" +
		"Kmart and Sears will have nearly 3,500 retail stores."
	ix, err := Build(context.Background(), []*knowledge.Story{story("counts", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for g, want := range []struct {
		noun   string
		counts bool
	}{{"paralympics", false}, {"soldiers", true}, {"referendums", false}, {"referendums", true}, {"stores", true}} {
		if got := ix.countsNoun(g, stem(want.noun)); got != want.counts {
			t.Errorf("countsNoun(%q, %s) = %v, want %v", ix.sentenceText(g), want.noun, got, want.counts)
		}
	}
}

// "Was anyone hurt?" asks about the injured; "anyone" and "got" name
// nothing a sentence must repeat.
func TestAnyoneHurt(t *testing.T) {
	body := "No injuries or deaths were reported in the attacks from either side.\n\n" +
		"The South retaliated by firing dozens of rounds of artillery into the north."
	ix, err := Build(context.Background(), []*knowledge.Story{story("korea", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"was anyone hurt", "how many got hurt"} {
		if got := ix.coverage(ix.analyze(q), 0); got < synonymCredit {
			t.Errorf("coverage of %q by %q = %.2f, want at least %.2f", q, ix.sentenceText(0), got, synonymCredit)
		}
	}
}

// A distance needs its unit; "how far back" asks for a time.
func TestHowFarWantsADistance(t *testing.T) {
	body := "The asteroid will make one of the closest passes of Earth ever seen, in 2029.\n\n" +
		"The old pharmacy in the monastery dates back to 1317, when the friars opened it."
	ix, err := Build(context.Background(), []*knowledge.Story{story("far", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"how close will the asteroid pass to earth": OutcomeClosest, "how far back does the pharmacy date": OutcomeAnswer} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != want {
			t.Errorf("%q: %s %q, want %s", q, a.Outcome, a.Text, want)
		}
	}
}

// "How many people died in the stampede?" is answered by "345 pilgrims
// were killed in a stampede", not by "76 people were killed" elsewhere,
// nor by "deadly stampedes": "people" after "how many" names nothing the
// answer must repeat, and "deadly" describes without counting the dead.
func TestHowManyPeopleDied(t *testing.T) {
	body := "Over 345 Muslim pilgrims have been killed in a stampede near Mecca.\n\n" +
		"Last week, at least 76 people were killed when a hotel collapsed.\n\n" +
		"This is not the first time deadly stampedes have taken place, with 1,426 pilgrims trampled in 1991."
	ix := buildStory(t, "hajj", body, Options{})
	qi := ix.analyze("how many ppl died in the stampede")
	if got := ix.coverage(qi, 0); got < synonymCredit {
		t.Errorf("coverage by %q = %.2f, want at least %.2f (terms %v)", ix.sentenceText(0), got, synonymCredit, qi.terms)
	}
	for _, g := range []int{1, 2} {
		if ix.coverage(qi, g) >= ix.coverage(qi, 0) {
			t.Errorf("%q covers the question as well as %q", ix.sentenceText(g), ix.sentenceText(0))
		}
	}
	if stem("deadly") == stem("dead") {
		t.Errorf("deadly stems to %q, as dead does", stem("deadly"))
	}
}

// The date a "when" question asks for is quoted first when it is in the
// sentence beside the one that repeats the question's words.
func TestWhenAnswerQuotesTheDateFirst(t *testing.T) {
	body := "North Korea fired shells at the South on Thursday evening.\n\n" +
		"South Korea had recently started to broadcast propaganda from loudspeakers after an 11-year lull. " +
		"The broadcasts began on August 10 and South Korea says they will continue.\n\n" +
		"North Korea said it would attack any loudspeakers broadcasting propaganda."
	ix := buildStory(t, "korea", body, testOptions())
	a := mustAsk(t, ix, "when did the propaganda broadcasts start")
	if len(a.Citations) < 2 || !strings.Contains(a.Citations[0].Quote, "August 10") || !strings.Contains(a.Citations[1].Quote, "started to broadcast") {
		t.Errorf("%s %q, want the date's sentence first, then the one it completes", a.Outcome, a.Text)
	}
}

func TestInitialisms(t *testing.T) {
	got := initialisms("Malaysia has, according to AFP, drawn criticism from the United Nations and the United States of America, and the National Basketball Association's chief.")
	for _, want := range []string{"un", "usa", "us", "nba"} {
		if !got[want] {
			t.Errorf("initialisms lack %q: %v", want, got)
		}
	}
	for _, not := range []string{"mu", "ua", "nu"} {
		if got[not] {
			t.Errorf("initialisms hold %q across a break: %v", not, got)
		}
	}
}

// "What does the UN think …" is answered by a sentence naming the United
// Nations, confidently: the holder is named, as initials.
func TestStanceHolderByInitials(t *testing.T) {
	body := "Malaysia and Indonesia have maintained a policy of turning away boats of migrants, which the United Nations has criticised.\n\n" +
		"Estimates suggest 8000 migrants may be at sea."
	ix := buildStory(t, "boats", body, Options{})
	if !ix.namesHolder(0, holderTerms("what does the un think about turning the boats away")) {
		t.Errorf("%q does not name the UN", ix.sentenceText(0))
	}
	if ix.namesHolder(1, holderTerms("what does the un think about turning the boats away")) {
		t.Errorf("%q names the UN", ix.sentenceText(1))
	}
}

// A count of the dead answers only a question about the dead: "how many
// pilgrims attended the hajj" is hedged on "345 pilgrims have been
// killed", "how many died" is not, and "nine counts of kidnapping" counts
// charges.
func TestCasualtyCountAnswersOnlyCasualties(t *testing.T) {
	body := "According to the ministry, over 345 Muslim pilgrims have been killed in a stampede during the annual Hajj.\n\n" +
		"Pinochet was placed under house arrest over one count of murder and nine counts of kidnapping."
	ix := buildStory(t, "hajj", body, Options{})
	if !ix.countsOnlyCasualties(0) {
		t.Errorf("%q counts more than casualties", ix.sentenceText(0))
	}
	if ix.countsOnlyCasualties(1) {
		t.Errorf("%q counts only casualties", ix.sentenceText(1))
	}
	for q, want := range map[string]string{
		"how many pilgrims attended the hajj":      OutcomeClosest,
		"how many pilgrims died in the hajj":       OutcomeAnswer,
		"how many counts is pinochet charged with": OutcomeAnswer,
	} {
		a := mustAsk(t, ix, q)
		if a.Outcome != want {
			t.Errorf("%q: %s %q, want %s", q, a.Outcome, a.Text, want)
		}
	}
}

// TestIgnoranceIsNoAnswer: a first quote in which the speaker says they do
// not know is at most the closest the story comes.
func TestIgnoranceIsNoAnswer(t *testing.T) {
	body := "Rescuers searched the bay for a second day on Monday.\n\n" +
		"\"I don't know where the ferry is now,\" the harbour master said."
	ix := buildStory(t, "ferry", body, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	a := mustAsk(t, ix, "where is the ferry now")
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "I don't know") {
		t.Fatalf("the test wants the harbour master's words first: %s %q", a.Outcome, a.Text)
	}
	if a.Outcome == OutcomeAnswer {
		t.Errorf("answered confidently with %q", a.Citations[0].Quote)
	}
}
