package retrieval

import (
	"slices"
	"testing"
)

// TestPeopleQuestion: questions for the story's people, naming no one,
// are read as such; questions about someone or something are not.
func TestPeopleQuestion(t *testing.T) {
	for q, want := range map[string]bool{
		"who are the main people in this story": true,
		"whos involved":                         true,
		"who's mentioned in the article":        true,
		"list the key players":                  true,
		"which people are named":                true,
		"who is in the bee story":               true,
		"who is miller":                         false,
		"who is involved in the strikes":        false,
		"who are the people against strikes":    false,
		"how many people died":                  false,
	} {
		if got := kindOf(q) == askPeople; got != want {
			t.Errorf("%q read as people: %v, want %v", q, got, want)
		}
	}
}

// TestPeopleOfAStory: a person is a capitalised first name and surname
// the story names again alone or gives a title; teams, places,
// organisations and initials are not people, and titles before a name
// are not part of it.
func TestPeopleOfAStory(t *testing.T) {
	body := "Indiana Pacers forward Ron Artest was suspended by the NBA for the rest of the season.\n\n" +
		"Artest said he regretted the brawl with fans of the Detroit Pistons. The Pistons played at home.\n\n" +
		"League commissioner David Stern announced the suspensions in New York. Stern called the brawl shocking.\n\n" +
		"South Korea and North Korea watched. Korea has a league too. The Pistons lost.\n\n" +
		"The KCNA agency reported on it, and Senator John W. Smith, a former player, said he was saddened.\n\n" +
		"Commissioner Stern spoke again. President Bush was there; Bush praised the fans. Later, George Bush left."
	ix := buildStory(t, "brawl", body, Options{})
	var got []string
	for _, p := range ix.people(0) {
		got = append(got, p.name)
	}
	want := []string{"David Stern", "Ron Artest", "George Bush", "John W. Smith"}
	if !slices.Equal(got, want) {
		t.Errorf("people %q, want %q", got, want)
	}
}
