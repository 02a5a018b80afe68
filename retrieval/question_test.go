package retrieval

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		q    string
		want questionType
	}{
		{"Who favors strikes?", askWho},
		{"When did the Broncos win?", askWhen},
		{"How many tackles did he make?", askNumber},
		{"Why did the White House hesitate?", askWhy},
		{"Where is the border?", askWhere},
		{"What is another term for rotors?", askName},
		{"What are the hairs on ctenophores called?", askName},
		{"What is the bad air theory officially known as?", askName},
		{"What is an example of a virus that uses antigenic variation?", askExample},
		{"Name one of the causes of immunodeficiency.", askExample},
		{"What did the report say?", askOther},
		// A date or a count decides before a naming word does.
		{"When was the ship called back?", askWhen},
	}
	for _, tt := range tests {
		if got := classify(tt.q); got != tt.want {
			t.Errorf("classify(%q) = %d, want %d", tt.q, got, tt.want)
		}
	}
}

func TestAnswerCue(t *testing.T) {
	q := func(words ...string) map[string]bool { return toSet(words...) }
	tests := []struct {
		kind     questionType
		sentence string
		question map[string]bool
		want     bool
	}{
		{askName, "This is called antigenic variation.", q("rotors"), true},
		{askName, `It is known as "the Romantic Rhine", with castles.`, q("rhine"), true},
		{askName, "Clades (genetic branches) were found.", q("clades"), true},
		{askName, "The gorge is listed as a heritage site.", q("gorge"), false},
		{askExample, "An example is HIV, which mutates rapidly.", q("virus"), true},
		{askExample, "These include the Miller–Rabin primality test.", q("algorithm"), true},
		{askExample, "The virus mutates rapidly.", q("virus"), false},
		{askWho, "The past record was held by John Elway.", q("record"), true},
		{askWho, "Miller said nothing.", q("miller"), false},
	}
	for _, tt := range tests {
		if got := hasAnswerCue(tt.kind, tt.sentence, tt.question); got != tt.want {
			t.Errorf("hasAnswerCue(%d, %q) = %v, want %v", tt.kind, tt.sentence, got, tt.want)
		}
	}
}
