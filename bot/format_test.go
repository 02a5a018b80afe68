package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

func TestEscapeMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text.", "plain text."},
		{"**bold** and _it_ ~~gone~~", `\*\*bold\*\* and \_it\_ \~\~gone\~\~`},
		{"`code` ||spoiler||", "\\`code\\` \\|\\|spoiler\\|\\|"},
		{"> quote # head", `\> quote \# head`},
		{"[click](https://evil.example)", `\[click\](https://evil.example)`},
		{`back\slash`, `back\\slash`},
		{"@everyone and @here", "@\u200beveryone and @\u200bhere"},
		{"<@123> <@!123> <@&456> <#789> <t:0:R> </ask:1>", "<\u200b@\u200b123\\> <\u200b@\u200b!123\\> <\u200b@\u200b&456\\> <\u200b\\#789\\> <\u200bt:0:R\\> <\u200b/ask:1\\>"},
		{"- item\n  + item\n12. item\nnot - a list", "\\- item\n  \\+ item\n12\\. item\nnot - a list"},
	}
	for _, tc := range cases {
		if got := EscapeMarkdown(tc.in); got != tc.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// No escaped text can form a mention, whatever it started as.
func TestEscapeMarkdownLeavesNoMention(t *testing.T) {
	inputs := []string{"@everyone", "@@everyone", "<<@123>>", "@\u200beveryone", "x@here", "<@&1><@&2>", "\\@everyone", "\\<@1>"}
	for _, in := range inputs {
		out := EscapeMarkdown(in)
		for _, bad := range []string{"@everyone", "@here", "<@", "<#", "<t:"} {
			if strings.Contains(out, bad) {
				t.Errorf("EscapeMarkdown(%q) = %q contains %q", in, out, bad)
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"too long", 5, "too …"},
		{"ééééé", 3, "éé…"},
		{`ab\*cd`, 4, "ab…"},  // the dangling backslash goes
		{`a\\bcd`, 4, `a\\…`}, // an escaped backslash stays
		{"x", 0, ""},
	}
	for _, tc := range cases {
		got := truncate(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if utf8.RuneCountInString(got) > tc.n {
			t.Errorf("truncate(%q, %d) is %d long", tc.in, tc.n, utf8.RuneCountInString(got))
		}
	}
}

func checkEmbedLimits(t *testing.T, embeds []*discordgo.MessageEmbed) {
	t.Helper()
	if len(embeds) > maxEmbeds {
		t.Errorf("%d embeds", len(embeds))
	}
	if n := embedLength(embeds); n > maxEmbedTotal {
		t.Errorf("total %d > %d", n, maxEmbedTotal)
	}
	for _, e := range embeds {
		if runes(e.Title) > maxEmbedTitle || runes(e.Description) > maxEmbedDescription || len(e.Fields) > maxEmbedFields {
			t.Errorf("title %d, description %d, fields %d", runes(e.Title), runes(e.Description), len(e.Fields))
		}
		if e.Footer != nil && runes(e.Footer.Text) > maxFooter {
			t.Errorf("footer %d", runes(e.Footer.Text))
		}
		for _, f := range e.Fields {
			if f.Name == "" || f.Value == "" || runes(f.Name) > maxFieldName || runes(f.Value) > maxFieldValue {
				t.Errorf("field name %d, value %d", runes(f.Name), runes(f.Value))
			}
		}
	}
}

func TestFitEmbedsCutsToDiscordLimits(t *testing.T) {
	huge := func(n int) string { return strings.Repeat("é", n) }
	e := &discordgo.MessageEmbed{
		Title: huge(1000), Description: huge(10000),
		Footer: &discordgo.MessageEmbedFooter{Text: huge(3000)},
	}
	for i := range 30 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: huge(500), Value: huge(5000 + i)})
	}
	e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "", Value: " "})
	out := fitEmbeds([]*discordgo.MessageEmbed{e})
	checkEmbedLimits(t, out)
	if len(out[0].Fields) != maxEmbedFields || !strings.Contains(out[0].Fields[24].Value, "more") {
		t.Errorf("fields: %d, last %q", len(out[0].Fields), out[0].Fields[len(out[0].Fields)-1].Value)
	}

	// Many embeds share the 6000.
	var many []*discordgo.MessageEmbed
	for range 12 {
		many = append(many, &discordgo.MessageEmbed{Title: "t", Description: huge(3000)})
	}
	checkEmbedLimits(t, fitEmbeds(many))

	// A short text is never cut to make room: the long ones give way.
	small := &discordgo.MessageEmbed{Description: huge(5900), Fields: []*discordgo.MessageEmbedField{{Name: "[1] Title", Value: "Paragraph 6"}}}
	fitEmbeds([]*discordgo.MessageEmbed{small})
	if small.Fields[0].Value != "Paragraph 6" || small.Fields[0].Name != "[1] Title" || embedLength([]*discordgo.MessageEmbed{small}) > maxEmbedTotal {
		t.Errorf("fields %+v, description %d", small.Fields[0], runes(small.Description))
	}

	// Within the limits nothing changes.
	ok := &discordgo.MessageEmbed{Title: "T", Description: "D", Fields: []*discordgo.MessageEmbedField{{Name: "n", Value: "v"}}}
	fitEmbeds([]*discordgo.MessageEmbed{ok})
	if ok.Title != "T" || ok.Description != "D" || ok.Fields[0].Value != "v" {
		t.Errorf("changed: %+v", ok)
	}
}

func citation(n int, quote string) retrieval.Citation {
	return retrieval.Citation{
		N: n, StoryID: "s", Title: "A *story*", Publisher: "Daily", Year: 2024,
		URL: "https://example.com/a_(b)", Paragraph: n + 5, Sentence: 1, Quote: quote,
		ChunkID: fmt.Sprintf("%016x", n),
	}
}

func TestAnswerMessage(t *testing.T) {
	a := &retrieval.Answer{
		Question: "who @everyone?", Found: true, Index: "0123456789ab",
		Citations: []retrieval.Citation{citation(1, "Ann said **no** to <@&1>."), citation(2, "Bob\nagreed.")},
		Note:      "Keyword search only.",
	}
	embeds, comps := AnswerMessage(a, "1234567890123456789")
	e := embeds[0]
	if want := `Ann said \*\*no\*\* to <` + zwsp + `@` + zwsp + `&1\>. [1] Bob agreed. [2]`; !strings.HasPrefix(e.Description, want) {
		t.Errorf("description %q, want prefix %q", e.Description, want)
	}
	if !strings.Contains(e.Description, "*Keyword search only.*") {
		t.Errorf("note missing: %q", e.Description)
	}
	if e.Title != "who @"+zwsp+"everyone?" {
		t.Errorf("title %q", e.Title)
	}
	if len(e.Fields) != 2 || e.Fields[0].Name != `[1] A \*story\*` ||
		!strings.Contains(e.Fields[0].Value, "[Read the story](https://example.com/a_%28b%29)") ||
		!strings.Contains(e.Fields[1].Value, "Paragraph 7, sentence 1\n> Bob agreed.") {
		t.Errorf("fields %+v %+v", e.Fields[0], e.Fields[1])
	}
	if e.Footer == nil || e.Footer.Text != "Source: Daily, 2024" {
		t.Errorf("footer %+v", e.Footer)
	}
	row := comps[0].(discordgo.ActionsRow)
	var ids []string
	for _, c := range row.Components {
		ids = append(ids, c.(discordgo.Button).CustomID)
	}
	want := []string{"fb:up:1234567890123456789", "fb:down:1234567890123456789", "passages:0123456789ab:0000000000000001,0000000000000002"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("custom ids %v, want %v", ids, want)
	}

	closest := &retrieval.Answer{Question: "q", Outcome: retrieval.OutcomeClosest, Text: retrieval.ClosestIntro + " near [1]", Index: "v",
		Citations: []retrieval.Citation{{N: 1, Title: "T", Paragraph: 3, Sentence: 2, Quote: "near", ChunkID: "c1"}}}
	embeds, comps = AnswerMessage(closest, "k")
	e = embeds[0]
	if e.Description != "The story doesn't say exactly; the closest it comes:\nnear [1]" || e.Color != colorClosest || len(e.Fields) != 1 || e.Fields[0].Name != "[1] T" {
		t.Errorf("closest: %q %x %+v", e.Description, e.Color, e.Fields)
	}
	if n := len(comps[0].(discordgo.ActionsRow).Components); n != 3 {
		t.Errorf("a hedged answer has %d buttons, want 3 (it cites a passage)", n)
	}
	for _, f := range e.Fields {
		if strings.Contains(f.Name+f.Value, "does not answer") {
			t.Errorf("a hedged answer claims to know the passage does not answer: %q", f.Name)
		}
	}
	// A list of the stories known says what it is before the leads it
	// quotes, with its Markdown escaped.
	listing := &retrieval.Answer{Question: "q", Outcome: retrieval.OutcomeAnswer, Preface: "I know 7 stories; ask *one*. 1 of them:", Index: "v",
		Citations: []retrieval.Citation{{N: 1, Title: "T", Paragraph: 1, Sentence: 1, Quote: "lead", ChunkID: "c1"}}}
	embeds, _ = AnswerMessage(listing, "k")
	if d := embeds[0].Description; d != `I know 7 stories; ask \*one\*. 1 of them:`+"\nlead [1]" {
		t.Errorf("listing: %q", d)
	}
	embeds, comps = AnswerMessage(&retrieval.Answer{Question: "q", Outcome: retrieval.OutcomeNone, Text: "None of the stories say."}, "k")
	if e := embeds[0]; e.Description != "None of the stories say." || e.Color != colorDecline || len(e.Fields) != 0 {
		t.Errorf("declined: %q %x %+v", e.Description, e.Color, e.Fields)
	}
	if len(comps[0].(discordgo.ActionsRow).Components) != 2 {
		t.Error("an answer without passages offers to show them")
	}

	long := &retrieval.Answer{Question: strings.Repeat("why ", 300), Found: true, Index: "v"}
	for i := range 3 {
		long.Citations = append(long.Citations, citation(i+1, strings.Repeat("*@everyone* ", 800)))
	}
	embeds, _ = AnswerMessage(long, "k")
	checkEmbedLimits(t, embeds)
	if !strings.Contains(embeds[0].Fields[2].Value, "[Read the story]") {
		t.Error("cutting a long quote lost the link")
	}
}

func TestCustomIDs(t *testing.T) {
	var cited []retrieval.Citation
	for i := range 10 {
		cited = append(cited, retrieval.Citation{ChunkID: fmt.Sprintf("%016x", i)})
	}
	cited = append(cited, cited[0]) // repeats are listed once
	id := passagesID("0123456789ab", cited)
	if len(id) > maxCustomID {
		t.Fatalf("%q is %d long", id, len(id))
	}
	v, chunks, ok := parsePassagesID(id)
	if !ok || v != "0123456789ab" || len(chunks) != 4 || chunks[0] != cited[0].ChunkID || chunks[3] != cited[3].ChunkID {
		t.Errorf("parse(%q) = %q %v %v", id, v, chunks, ok)
	}
	if passagesID("v", nil) != "" {
		t.Error("passages button without passages")
	}
	for _, bad := range []string{"passages:", "passages:v", "passages:v:", "other:v:c"} {
		if _, _, ok := parsePassagesID(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
	up, key, ok := parseFeedbackID(feedbackID(true, "42"))
	if !ok || !up || key != "42" {
		t.Errorf("feedback round trip: %v %q %v", up, key, ok)
	}
	for _, bad := range []string{"fb:", "fb:up:", "fb:sideways:1", "fb:up"} {
		if _, _, ok := parseFeedbackID(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestSplitContent(t *testing.T) {
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("line %d: %s", i, strings.Repeat("x", i%50)))
	}
	text := strings.Join(lines, "\n")
	parts := splitContent(text, maxContent, 100)
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if runes(p) > maxContent {
			t.Errorf("part of %d", runes(p))
		}
	}
	if strings.Join(parts, "\n") != text {
		t.Error("splitting at line breaks lost text")
	}
	capped := splitContent(text, maxContent, 2)
	if len(capped) != 2 || !strings.HasSuffix(capped[1], "(the rest was left out)") || runes(capped[1]) > maxContent {
		t.Errorf("capped: %d parts, last ends %q", len(capped), capped[len(capped)-1][max(0, len(capped[len(capped)-1])-30):])
	}
	// No break anywhere: cut hard.
	for _, p := range splitContent(strings.Repeat("é", 4500), maxContent, 10) {
		if runes(p) > maxContent || p == "" {
			t.Errorf("hard split part of %d", runes(p))
		}
	}
}

func TestReloadText(t *testing.T) {
	got := ReloadText(retrieval.ReloadReport{
		Added: []string{"new-one"}, Changed: []string{"a", "b"}, Embedded: 3, Cached: 40,
		Took: 1500 * time.Millisecond, Version: "abc123",
	})
	want := "Reloaded in 1.5 s. Index version `abc123`.\nStories added: 1 (new-one)\nStories changed: 2 (a, b)\nStories removed: none\nPassages re-embedded: 3; reused unchanged: 40."
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
