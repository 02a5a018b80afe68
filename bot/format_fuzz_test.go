package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
)

// The fuzz targets here check what the formatter promises for any text a
// story or a user can put in front of it: every message fits Discord's
// limits (which it would otherwise reject outright), is valid UTF-8, passes
// Discord's own API spec, and can neither ping (@everyone, <@&role>) nor
// turn quoted text into formatting. The checks read the JSON the bot puts
// on the wire, and Discord's limits are written out here rather than taken
// from format.go, so a wrong constant there fails them too.

// Discord's limits, in Unicode code points.
const (
	wireContent     = 2000
	wireEmbeds      = 10
	wireTitle       = 256
	wireDescription = 4096
	wireFields      = 25
	wireFieldName   = 256
	wireFieldValue  = 1024
	wireFooter      = 2048
	wireAuthor      = 256
	wireEmbedTotal  = 6000
	wireCustomID    = 100
	wireLabel       = 80
	wireRows        = 5
	wireRowButtons  = 5
)

// markup is the formatting a text field may carry on purpose. Anything else
// that Discord would read as formatting must come out escaped.
type markup struct {
	markers    bool // "[3]" citation markers
	note       bool // an italic note: "\n\n*" … "*" closing the text
	quote      bool // "> " opening a line (the quoted sentence)
	links      bool // "[label](https://…)" masked links
	code       bool // `code spans` (IDs and versions)
	timestamps bool // "<t:1700000000:f>"
}

// plain is a field whose markdown Discord does not render (footers).
var plain = markup{}

// formatChars are what Discord's markdown reads as formatting.
const formatChars = "*_~`|>#[]"

var (
	markerRE       = regexp.MustCompile(`^\[-?\d+\]`)
	markerCutRE    = regexp.MustCompile(`^\[-?\d*…$`)
	linkRE         = regexp.MustCompile(`^\[[A-Za-z ]+\]\(https?://` + urlChars + `*\)`)
	linkCutRE      = regexp.MustCompile(`^\[[A-Za-z ]*(\](\(` + urlChars + `*)?)?…$`)
	timestampRE    = regexp.MustCompile(`^<t:-?\d+:[tTdDfFR]>`)
	timestampCutRE = regexp.MustCompile(`^<(t(:(-?\d*(:[tTdDfFR]?)?)?)?)?…$`)
	// listRE is a line Discord would show as a list item.
	listRE = regexp.MustCompile(`^[ \t]*([-+*]|\d+\.)[ \t]`)
	// linkTargetRE is the URL of a masked link, complete or cut: Discord
	// does not render it as text, so it may hold "@" like any URL.
	linkTargetRE = regexp.MustCompile(`\]\(https?://` + urlChars + `*(\)|…$)`)
)

// urlChars is what a masked link's target may hold: no parentheses or angle
// brackets, no white space of any kind, no control or format characters.
const urlChars = `[^()<>\s\p{Z}\p{Cc}\p{Cf}]`

// markdownLeak returns a description of the first piece of formatting in s
// that is neither escaped nor markup m allows, or "". A text cut short (it
// ends in "…") may end inside a piece of markup.
func markdownLeak(s string, m markup) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		rest := s[i:]
		switch {
		case r == '\\':
			// An escape: the next character is shown as it is.
			_, next := utf8.DecodeRuneInString(s[i+size:])
			i += size + next
			continue
		case m.timestamps && r == '<' && timestampRE.MatchString(rest):
			i += len(timestampRE.FindString(rest))
			continue
		case m.timestamps && r == '<' && timestampCutRE.MatchString(rest):
			return ""
		case !strings.ContainsRune(formatChars, r):
		case r == '[' && m.markers && markerRE.MatchString(rest):
			i += len(markerRE.FindString(rest))
			continue
		case r == '[' && m.markers && markerCutRE.MatchString(rest):
			return ""
		case r == '[' && m.links && linkRE.MatchString(rest):
			i += len(linkRE.FindString(rest))
			continue
		case r == '[' && m.links && linkCutRE.MatchString(rest):
			return ""
		case r == '`' && m.code:
			// Even a text cut short must close its spans: an open one shows
			// its backtick and leaves the rest to markdown.
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 {
				return fmt.Sprintf("unclosed code span at byte %d", i)
			}
			i += 1 + end + 1
			continue
		case r == '*' && m.note && (strings.HasSuffix(s[:i], "\n\n") || i+size == len(s)):
		case r == '>' && m.quote && (i == 0 || s[i-1] == '\n') && (strings.HasPrefix(s[i+1:], " ") || s[i+1:] == "…"):
		default:
			return fmt.Sprintf("unescaped %q at byte %d", r, i)
		}
		i += size
	}
	for n, line := range strings.Split(s, "\n") {
		if m.quote {
			line = strings.TrimPrefix(line, "> ")
		}
		if listRE.MatchString(line) {
			return fmt.Sprintf("line %d is a list item: %q", n+1, line)
		}
	}
	return ""
}

// liveMention returns the first mention in s that Discord would render, or
// "". The formatter breaks them with a zero-width space after "@" and "<".
func liveMention(s string) string {
	s = linkTargetRE.ReplaceAllString(s, "](URL)")
	lower := strings.ToLower(s)
	for _, m := range []string{"@everyone", "@here", "<@", "<#", "</"} {
		if i := strings.Index(lower, m); i >= 0 {
			return fmt.Sprintf("%q at byte %d", m, i)
		}
	}
	return ""
}

// wireMessage is a message as the bot sends it, decoded back from JSON.
type wireMessage struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
}

// send encodes a reply the way the bot's respond does (type 4, parse
// nothing), checks the bytes against Discord's API spec, and decodes them
// back: the checks below read what Discord would receive.
func send(t *testing.T, content string, embeds []*discordgo.MessageEmbed, comps []discordgo.MessageComponent) wireMessage {
	t.Helper()
	body, err := json.Marshal(&discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: content, Embeds: embeds, Components: comps, AllowedMentions: noMentions(),
		},
	})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	req := discordtest.Request{
		Method: http.MethodPost, Route: discordtest.RouteCallback,
		Path:   "/api/v9/interactions/1234567890123456789/token/callback",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: body,
	}
	for _, err := range discordtest.CheckRequests([]discordtest.Request{req}) {
		t.Errorf("spec: %v\n%s", err, body)
	}
	var resp struct {
		Data discordgo.Message `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	return wireMessage{Content: resp.Data.Content, Embeds: resp.Data.Embeds, Components: resp.Data.Components}
}

// checkText checks one text field: its length, and that it carries no
// mention and no formatting beyond m.
func checkText(t *testing.T, what, s string, limit int, m markup, markdown bool) {
	t.Helper()
	if n := utf8.RuneCountInString(s); n > limit {
		t.Errorf("%s is %d characters, over Discord's %d", what, n, limit)
	}
	if !utf8.ValidString(s) {
		t.Errorf("%s is not valid UTF-8: %q", what, s)
	}
	if leak := liveMention(s); leak != "" {
		t.Errorf("%s has a live mention, %s: %q", what, leak, s)
	}
	if markdown {
		if leak := markdownLeak(s, m); leak != "" {
			t.Errorf("%s: %s: %q", what, leak, s)
		}
	}
}

// fieldMarkup says what formatting each embed text may carry.
type fieldMarkup struct {
	title, description, fieldName, fieldValue markup
}

// checkMessage checks a whole message as Discord receives it.
func checkMessage(t *testing.T, msg wireMessage, fm fieldMarkup, content markup) {
	t.Helper()
	checkText(t, "content", msg.Content, wireContent, content, true)
	if len(msg.Embeds) > wireEmbeds {
		t.Errorf("%d embeds, over Discord's %d", len(msg.Embeds), wireEmbeds)
	}
	total := 0
	for i, e := range msg.Embeds {
		at := fmt.Sprintf("embed %d ", i)
		checkText(t, at+"title", e.Title, wireTitle, fm.title, true)
		checkText(t, at+"description", e.Description, wireDescription, fm.description, true)
		total += utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
		if e.Footer != nil {
			checkText(t, at+"footer", e.Footer.Text, wireFooter, plain, false)
			total += utf8.RuneCountInString(e.Footer.Text)
		}
		if e.Author != nil {
			checkText(t, at+"author", e.Author.Name, wireAuthor, plain, false)
			total += utf8.RuneCountInString(e.Author.Name)
		}
		if len(e.Fields) > wireFields {
			t.Errorf("%s has %d fields, over Discord's %d", at, len(e.Fields), wireFields)
		}
		for j, f := range e.Fields {
			if strings.TrimSpace(f.Name) == "" || strings.TrimSpace(f.Value) == "" {
				t.Errorf("%sfield %d is blank, which Discord rejects: %+v", at, j, f)
			}
			checkText(t, fmt.Sprintf("%sfield %d name", at, j), f.Name, wireFieldName, fm.fieldName, true)
			checkText(t, fmt.Sprintf("%sfield %d value", at, j), f.Value, wireFieldValue, fm.fieldValue, true)
			total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		}
	}
	if total > wireEmbedTotal {
		t.Errorf("embeds total %d characters, over Discord's %d", total, wireEmbedTotal)
	}
	if len(msg.Components) > wireRows {
		t.Errorf("%d component rows, over Discord's %d", len(msg.Components), wireRows)
	}
	ids := map[string]bool{}
	for _, c := range msg.Components {
		row, ok := c.(*discordgo.ActionsRow)
		if !ok {
			t.Fatalf("top-level component %T, want an action row", c)
		}
		if len(row.Components) > wireRowButtons {
			t.Errorf("%d buttons in a row, over Discord's %d", len(row.Components), wireRowButtons)
		}
		for _, c := range row.Components {
			b, ok := c.(*discordgo.Button)
			if !ok {
				t.Fatalf("component %T, want a button", c)
			}
			if n := utf8.RuneCountInString(b.CustomID); n == 0 || n > wireCustomID {
				t.Errorf("custom_id %q is %d characters; Discord takes 1 to %d", b.CustomID, n, wireCustomID)
			}
			if ids[b.CustomID] {
				t.Errorf("custom_id %q is used twice in one message", b.CustomID)
			}
			ids[b.CustomID] = true
			if utf8.RuneCountInString(b.Label) > wireLabel {
				t.Errorf("button label %q over %d", b.Label, wireLabel)
			}
		}
	}
}

// fields splits a fuzzed string into several values. The record separator
// is rare in real text, so splitting on it leaves the rest of the fuzzer's
// bytes alone.
func fields(s string) []string { return strings.Split(s, "\x1e") }

// hostile are seeds no formatter input should get through unescaped.
var hostile = []string{
	"", " ", "@everyone", "@here", "@Everyone", "<@123456789012345678>", "<@!123>", "<@&123>", "<#456>",
	"</ask:789>", "<t:0:R>", "```go\ncode\n```", "`x`", "||spoiler||", "**bold** __under__ ~~strike~~ *it*",
	"[link](https://x.example)", "> quote\n>>> block", "# Heading\n## two\n-# sub", "- item\n+ item\n1. item\n  * item",
	`back\slash\`, "\\*", "@\u200beveryone", "\u202eevil\u202c RTL", "مرحبا @here שלום", "👍🏽 👨‍👩‍👧 ZWJ", "e\u0301",
	"\xff\xfe invalid", "a\x00b", "line\r\nbreak\n\nparagraph", strings.Repeat("x", 6000), strings.Repeat("@everyone ", 700),
	strings.Repeat("é", 5000), strings.Repeat("\\", 3000), "- " + strings.Repeat("a ", 1500) + "- b",
}

// FuzzEscapeMarkdown: escaped text shows exactly the input (unescaping it
// gives the input back), formats nothing, mentions nobody, and stays so when
// truncate cuts it anywhere.
func FuzzEscapeMarkdown(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, uint16(i*37))
	}
	f.Fuzz(func(t *testing.T, s string, cut uint16) {
		out := EscapeMarkdown(s)
		if got := unescape(out); got != s {
			t.Fatalf("EscapeMarkdown(%q) = %q, which shows as %q", s, out, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("EscapeMarkdown(%q) = %q is not valid UTF-8", s, out)
		}
		if leak := markdownLeak(out, markup{}); leak != "" {
			t.Fatalf("EscapeMarkdown(%q) = %q: %s", s, out, leak)
		}
		if leak := liveMention(out); leak != "" {
			t.Fatalf("EscapeMarkdown(%q) = %q has a live mention, %s", s, out, leak)
		}
		n := int(cut) % (utf8.RuneCountInString(out) + 2)
		short := truncate(out, n)
		if got := utf8.RuneCountInString(short); got > n {
			t.Fatalf("truncate(%q, %d) is %d long", out, n, got)
		}
		if leak := markdownLeak(short, markup{}); leak != "" {
			t.Fatalf("truncate(%q, %d) = %q: %s", out, n, short, leak)
		}
		if leak := liveMention(short); leak != "" {
			t.Fatalf("truncate(%q, %d) = %q has a live mention, %s", out, n, short, leak)
		}
	})
}

// unescape is how Discord shows escaped text: a backslash before
// punctuation shows the punctuation, and the zero-width space put after
// "@" and "<" is invisible.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\\' && i+1 < len(s) && strings.IndexByte("\\*_~`|>#[]-+.@<", s[i+1]) >= 0 {
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
		if (r == '@' || r == '<') && strings.HasPrefix(s[i:], zwsp) {
			i += len(zwsp)
		}
	}
	return b.String()
}

// answerMarkup is what the answer embed may format: the title is the
// escaped question; the description quotes with [n] markers and an italic
// note; a field names a source ("[n] Title") and holds a link and a block
// quote.
var answerMarkup = fieldMarkup{
	description: markup{markers: true, note: true},
	fieldName:   markup{markers: true},
	fieldValue:  markup{links: true, quote: true},
}

// FuzzAnswerMessage renders answers made of fuzzed questions, quotes,
// titles, URLs, publishers and notes, with 1 to 10 citations, found or
// declined.
func FuzzAnswerMessage(f *testing.F) {
	f.Add("who favors strikes?", "Ann said so.\x1eBob agreed.", "A story", "https://example.com/a", "Daily", "", "The story does not say.", "0123456789abcdef", "0123456789abcdef\x1efedcba9876543210", uint8(2), true, 2024)
	for i, s := range hostile {
		f.Add(s, s+"\x1e"+hostile[(i+1)%len(hostile)], s, "https://x.example/"+s, s, s, s, s, s, uint8(i), i%3 != 0, i*500)
	}
	f.Fuzz(func(t *testing.T, question, quotes, titles, urls, publishers, note, text, index, chunkIDs string, n uint8, found bool, year int) {
		q, t1, u, p, ids := fields(quotes), fields(titles), fields(urls), fields(publishers), fields(chunkIDs)
		a := &retrieval.Answer{Question: question, Found: found, Text: text, Note: note, Index: index}
		var cited []retrieval.Citation
		for i := range 1 + int(n)%10 {
			cited = append(cited, retrieval.Citation{
				N: i + 1, StoryID: t1[i%len(t1)], Title: t1[(i+1)%len(t1)], Publisher: p[i%len(p)], Year: year,
				URL: u[i%len(u)], Paragraph: i + 1, Sentence: int(n) - i, Quote: q[i%len(q)], ChunkID: ids[i%len(ids)],
			})
		}
		switch {
		case found:
			a.Outcome, a.Citations = retrieval.OutcomeAnswer, cited
		case n&16 != 0:
			a.Outcome, a.Citations = retrieval.OutcomeClosest, cited[:1]
		default:
			a.Outcome = retrieval.OutcomeNone
		}
		embeds, comps := AnswerMessage(a, index)
		valid := allValid(question, quotes, titles, urls, publishers, note, text, index, chunkIDs)
		if valid {
			checkValidUTF8(t, embeds)
		}
		msg := send(t, "", embeds, comps)
		checkMessage(t, msg, answerMarkup, markup{})
		if len(msg.Embeds) != 1 {
			t.Fatalf("%d embeds, want the answer's 1", len(msg.Embeds))
		}
		for _, id := range buttonIDs(msg) {
			if !valid || !strings.HasPrefix(id, passagesPrefix) {
				continue // invalid bytes are replaced on the wire
			}
			// The button must lead back to the passages cited.
			_, chunks, ok := parsePassagesID(id)
			if !ok {
				t.Fatalf("passages button %q does not parse", id)
			}
			for _, c := range chunks {
				if !citedChunk(a, c) {
					t.Errorf("passages button %q names %q, which was not cited", id, c)
				}
			}
		}
	})
}

func citedChunk(a *retrieval.Answer, id string) bool {
	for _, c := range a.Citations {
		if c.ChunkID == id {
			return true
		}
	}
	return false
}

func buttonIDs(msg wireMessage) []string {
	var ids []string
	for _, c := range msg.Components {
		if row, ok := c.(*discordgo.ActionsRow); ok {
			for _, c := range row.Components {
				if b, ok := c.(*discordgo.Button); ok {
					ids = append(ids, b.CustomID)
				}
			}
		}
	}
	return ids
}

// checkValidUTF8 checks the rendered embeds before encoding, which would
// hide invalid bytes by replacing them.
func checkValidUTF8(t *testing.T, embeds []*discordgo.MessageEmbed) {
	t.Helper()
	for _, e := range embeds {
		texts := []string{e.Title, e.Description}
		if e.Footer != nil {
			texts = append(texts, e.Footer.Text)
		}
		for _, f := range e.Fields {
			texts = append(texts, f.Name, f.Value)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) {
				t.Errorf("valid input rendered as invalid UTF-8: %q", s)
			}
		}
	}
}

// storyMarkup is what /sources and "Show passages" may format: code spans
// (IDs, the version), links, and Discord timestamps.
var storyMarkup = fieldMarkup{
	description: markup{code: true, timestamps: true},
	fieldValue:  markup{code: true, links: true},
}

// FuzzStoryEmbeds renders /sources and "Show passages" for one to three
// stories with fuzzed titles, publishers, URLs, IDs and text.
func FuzzStoryEmbeds(f *testing.F) {
	f.Add("harbor-bridge", "Harbor bridge reopens", "Coast Gazette", "https://example.com/a", "The bridge reopened on Monday. Traffic is back.", uint8(1), 2024)
	for i, s := range hostile {
		f.Add(s, s, s, "https://x.example/"+s, s+" Then a sentence. "+s, uint8(i), i*300)
	}
	f.Fuzz(func(t *testing.T, ids, titles, publishers, urls, bodies string, n uint8, year int) {
		id, ti, p, u, b := fields(ids), fields(titles), fields(publishers), fields(urls), fields(bodies)
		var stories []*knowledge.Story
		for i := range 1 + int(n)%3 {
			stories = append(stories, &knowledge.Story{
				ID: fmt.Sprintf("%s-%d", id[i%len(id)], i), Title: ti[i%len(ti)], Publisher: p[i%len(p)],
				Year: year, URL: u[i%len(u)], Body: b[i%len(b)],
			})
		}
		ix, err := retrieval.Build(context.Background(), stories, retrieval.Options{})
		if err != nil {
			t.Skip("not a story the index takes:", err) // e.g. a body with no sentence
		}
		valid := allValid(ids, titles, publishers, urls, bodies)

		sources := SourcesEmbed(ix, time.Unix(1700000000, 0))
		if valid {
			checkValidUTF8(t, []*discordgo.MessageEmbed{sources})
		}
		checkMessage(t, send(t, "", []*discordgo.MessageEmbed{sources}, nil), storyMarkup, markup{})

		var chunkIDs []string
		for _, c := range ix.Chunks() {
			chunkIDs = append(chunkIDs, c.ID)
		}
		embeds, missing := PassageEmbeds(ix, append(chunkIDs, "no-such-chunk"))
		if missing != 1 {
			t.Errorf("%d passages missing, want 1", missing)
		}
		if valid {
			checkValidUTF8(t, embeds)
		}
		checkMessage(t, send(t, "", embeds, nil), storyMarkup, markup{})
	})
}

// reloadMarkup is what a reload report may format: code spans (the
// version).
var reloadMarkup = markup{code: true}

// FuzzReloadText renders reload reports and failures with fuzzed story IDs,
// versions and error text, split into messages the way /reload sends them.
func FuzzReloadText(f *testing.F) {
	f.Add("new-one", "a\x1eb", "", "abc123", "zulu.md: front matter: year 12 is not a four-digit year", 3, 40, int64(1500*time.Millisecond))
	for i, s := range hostile {
		f.Add(s, s+"\x1e"+s, s, s, "reload: "+s, i, -i, int64(i)*int64(time.Second))
	}
	f.Fuzz(func(t *testing.T, added, changed, removed, version, errText string, embedded, cached int, took int64) {
		ids := func(s string) []string {
			if s == "" {
				return nil
			}
			return fields(s)
		}
		rep := retrieval.ReloadReport{
			Added: ids(added), Changed: ids(changed), Removed: ids(removed),
			Embedded: embedded, Cached: cached, Took: time.Duration(took), Version: version,
		}
		valid := allValid(added, changed, removed, version, errText)
		for _, text := range []string{ReloadText(rep), reloadFailedText(errText)} {
			parts := splitContent(text, maxContent, maxReloadMessages)
			if len(parts) == 0 || len(parts) > 3 {
				t.Fatalf("%d messages, want 1 to 3", len(parts))
			}
			for i, p := range parts {
				if strings.TrimSpace(p) == "" {
					t.Errorf("message %d of %d is blank, which Discord rejects", i+1, len(parts))
				}
				if valid && !utf8.ValidString(p) {
					t.Errorf("message %d is not valid UTF-8: %q", i+1, p)
				}
				checkMessage(t, send(t, p, nil, nil), fieldMarkup{}, reloadMarkup)
			}
		}
	})
}

// allValid reports whether every input is valid UTF-8. (Checking them
// joined would not do: two invalid halves can make one valid character.)
func allValid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// reloadFailedText is what reload.go sends when a reload fails.
func reloadFailedText(err string) string {
	return "Reload failed, so nothing changed: the stories loaded before keep answering questions.\n" + EscapeMarkdown(err)
}

// TestFuzzFindings pins what the fuzz targets found, each a case that once
// broke the properties above.
func TestFuzzFindings(t *testing.T) {
	// A footer is plain text, so its publisher is not escaped; it still
	// must not carry mention syntax.
	a := &retrieval.Answer{Question: "q", Found: true, Index: "v", Citations: []retrieval.Citation{
		{N: 1, Title: "T", Publisher: "<@&123> @everyone", Quote: "Q.", ChunkID: "c"},
	}}
	embeds, _ := AnswerMessage(a, "k")
	if f := embeds[0].Footer.Text; liveMention(f) != "" || unescape(f) != "Source: <@&123> @everyone" {
		t.Errorf("footer %q", f)
	}

	// A blank note, or one starting with a space, made "* *", a list item.
	a.Note = " keyword search only"
	embeds, _ = AnswerMessage(a, "k")
	if d := embeds[0].Description; !strings.HasSuffix(d, "\n\n*keyword search only*") {
		t.Errorf("description %q", d)
	}

	// White space of any kind in a link target breaks the link: Discord
	// shows "[Read the story](http://…)" as text.
	if got := markdownURL("http://x/\ta\u00a0b\u200d(c)\n\xff"); got != "http://x/%09a%C2%A0b%E2%80%8D%28c%29%FF" {
		t.Errorf("markdownURL = %q", got)
	}

	// A quote that is only a list marker became one with its " [1]".
	a.Note = ""
	a.Citations[0].Quote = "-"
	embeds, _ = AnswerMessage(a, "k")
	if d := embeds[0].Description; d != `\- [1]` {
		t.Errorf("description %q", d)
	}

	// A version with a ":" would not parse back out of the custom ID.
	if id := passagesID("v:1", []retrieval.Citation{{ChunkID: "c"}}); id != "" {
		t.Errorf("passages ID %q for a version with a colon", id)
	}

	// Code spans break mentions too, and are bounded, so a split never
	// falls inside one.
	if got := codeSpan("@here <@1>"); got != "`@"+zwsp+"here <"+zwsp+"@"+zwsp+"1>`" {
		t.Errorf("codeSpan = %q", got)
	}
	if n := utf8.RuneCountInString(codeSpan(strings.Repeat("v", 5000))); n > maxCodeSpan+2 {
		t.Errorf("code span of %d characters", n)
	}

	// Cutting inside a code span drops the span rather than leave its
	// backtick open; a backslash inside a span escapes nothing.
	if got := truncate("id `abcdef` more", 8); got != "id …" {
		t.Errorf("truncate in a span = %q", got)
	}
	if got := truncate("id `ab\\` more text", 12); got != "id `ab\\` mo…" {
		t.Errorf("truncate after a span ending in a backslash = %q", got)
	}

	// A message split mid-line must not start with a list marker, split an
	// escape pair, or split a code span.
	text := strings.Repeat("a", 15) + " - b"
	if parts := splitContent(text, 16, 3); len(parts) != 2 || parts[1] != `\- b` {
		t.Errorf("split %q = %q", text, parts)
	}
	text = strings.Repeat("a", 15) + `\*x`
	if parts := splitContent(text, 16, 3); len(parts) != 2 || parts[1] != `\*x` {
		t.Errorf("split %q = %q", text, parts)
	}
	text = "version `abc def` is live"
	if parts := splitContent(text, 14, 3); len(parts) < 2 || parts[0] != "version" || !strings.HasPrefix(parts[1], "`abc def`") {
		t.Errorf("split %q = %q", text, parts)
	}
}
