package retrieval

import (
	"strings"
	"testing"
)

func TestDefinedTerm(t *testing.T) {
	for q, want := range map[string]string{
		"what is the torino scale":      "torino scale",
		"whats nanosat-2?":              "nanosat-2",
		"What are cartels":              "cartels",
		"what is the name of the ship":  "", // a name, not a definition
		"what is miller doing about it": "", // more than a term
		"who is the torino scale":       "",
	} {
		if got := definedTerm(q); got != want {
			t.Errorf("definedTerm(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestDefinesTerm(t *testing.T) {
	for sentence, want := range map[string]bool{
		"The Torino scale is the current method by which astronomers classify the risk.": true,
		"Nanosat-2, a program of the Department of Defense, launched two satellites.":    true,
		"They use a system known as the Torino scale.":                                   true,
		"Its risk was first calculated as 2 out of 10 on the Torino scale.":              false,
		"The Torino scales were compared.":                                               false,
	} {
		x := "torino scale"
		if strings.Contains(sentence, "Nanosat") {
			x = "nanosat-2"
		}
		if got := definesTerm(sentence, x); got != want {
			t.Errorf("definesTerm(%q, %q) = %v, want %v", sentence, x, got, want)
		}
	}
}

// Both sentences hold every word of "what is the torino scale"; the one
// that says what it is comes first.
func TestDefinitionQuestionQuotesTheDefinition(t *testing.T) {
	body := "Its risk was first calculated as 2 out of 10 on the Torino scale.\n\n" +
		"The Torino scale is the current method by which astronomers classify the likelihood of an impact."
	ix := buildStory(t, "asteroid", body, testOptions())
	a := mustAsk(t, ix, "what is the torino scale")
	if len(a.Citations) == 0 || !strings.HasPrefix(a.Citations[0].Quote, "The Torino scale is") {
		t.Errorf("%s %q, want the definition first", a.Outcome, a.Text)
	}
}

func TestListedKind(t *testing.T) {
	for q, want := range map[string]string{
		"which languages is it available in": "languages",
		"which brands does kmart bring":      "brands",
		"which is bigger":                    "",
		"what years did he play":             "", // one year, not a list
	} {
		if got := listedKind(q); got != want {
			t.Errorf("listedKind(%q) = %q, want %q", q, got, want)
		}
	}
}

// "Which languages" is answered by the sentence that lists them, not by a
// short one that only names languages.
func TestListQuestionQuotesTheList(t *testing.T) {
	body := "Firefox is available in the following languages: Norwegian, Polish, Finnish, Italian and Japanese.\n\n" +
		"Other languages should be available later."
	ix := buildStory(t, "firefox", body, testOptions())
	a := mustAsk(t, ix, "which languages is it available in")
	if len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "Norwegian") {
		t.Errorf("%s %q, want the list first", a.Outcome, a.Text)
	}
}
