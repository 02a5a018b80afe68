package bot

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// Discord's size limits, in characters (counted here as Unicode code
// points). A message over any of them is rejected outright, so everything
// the bot sends is cut to fit first.
const (
	maxContent          = 2000
	maxEmbeds           = 10
	maxEmbedTitle       = 256
	maxEmbedDescription = 4096
	maxEmbedFields      = 25
	maxFieldName        = 256
	maxFieldValue       = 1024
	maxFooter           = 2048
	maxAuthorName       = 256
	// maxEmbedTotal applies to the sum over every embed of a message.
	maxEmbedTotal = 6000
	maxCustomID   = 100
)

// Colours of the answer embed: an answer, a decline, and a hedged answer (the closest the story comes).
const (
	colorAnswer  = 0x2b6cb0
	colorDecline = 0x718096
	colorClosest = 0xb7791f
)

// zwsp (zero-width space) is put after "@" and "<" in quoted text: Discord
// then shows the text unchanged but no longer reads it as a mention.
const zwsp = "\u200b"

// mentionBreaker breaks mention and timestamp syntax with a zero-width
// space, for text Discord shows without markdown (footers, author names)
// and inside code spans, where a backslash would show.
var mentionBreaker = strings.NewReplacer("@", "@"+zwsp, "<", "<"+zwsp)

// markdownEscaper backslash-escapes the characters Discord reads as
// formatting, and breaks mention and timestamp syntax (@everyone, @here,
// <@123>, <@&123>, <#123>, <t:0>, </cmd:1>) with a zero-width space.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`,
	"*", `\*`,
	"_", `\_`,
	"~", `\~`,
	"`", "\\`",
	"|", `\|`,
	">", `\>`,
	"#", `\#`,
	"[", `\[`,
	"]", `\]`,
	"@", "@"+zwsp,
	"<", "<"+zwsp,
)

// EscapeMarkdown makes text quoted from a story (or typed by a user) show as
// plain text in Discord: no bold, links, block quotes, lists, headings or
// spoilers, and no mentions even where allowed_mentions would let one
// through. Line-leading list markers ("- ", "1. ") are escaped too.
func EscapeMarkdown(s string) string {
	s = markdownEscaper.Replace(s)
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = escapeListMarker(line)
	}
	return strings.Join(lines, "\n")
}

// escapeListMarker escapes a list marker at the start of a line. A marker
// the line ends with counts: the bot may append to it (a quote "-" becomes
// "- [1]" in an answer).
func escapeListMarker(line string) string {
	trimmed := strings.TrimLeft(line, " \t")
	indent := line[:len(line)-len(trimmed)]
	if trimmed != "" && (trimmed[0] == '-' || trimmed[0] == '+') && markerEnds(trimmed, 1) {
		return indent + `\` + trimmed
	}
	digits := 0
	for digits < len(trimmed) && trimmed[digits] >= '0' && trimmed[digits] <= '9' {
		digits++
	}
	if digits > 0 && strings.HasPrefix(trimmed[digits:], ".") && markerEnds(trimmed, digits+1) {
		return indent + trimmed[:digits] + `\` + trimmed[digits:]
	}
	return line
}

// markerEnds reports whether a list marker in s ends at byte i: at white
// space or at the end.
func markerEnds(s string, i int) bool {
	return i == len(s) || s[i] == ' ' || s[i] == '\t'
}

// runes is the length Discord's limits are counted in.
func runes(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to at most n characters, ending with "…" when it cut. A
// backslash left dangling by the cut is dropped, so it cannot escape
// whatever follows, and so is a code span the cut would leave open: its
// backtick would show, and the rest of it would be read as markdown.
func truncate(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	cut := 0
	for i := range s {
		if cut == n-1 {
			s = s[:i]
			break
		}
		cut++
	}
	if open := openCodeSpan(s); open >= 0 {
		s = s[:open]
	}
	if danglingBackslash(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// danglingBackslash reports whether s ends in an odd run of backslashes:
// one that would escape whatever comes next.
func danglingBackslash(s string) bool {
	return (len(s)-len(strings.TrimRight(s, `\`)))%2 == 1
}

// openCodeSpan returns the byte offset of the backtick of a code span s
// opens and does not close, or -1. Escaped text has no unescaped backticks
// but codeSpan's. Inside a span a backslash is only a backslash.
func openCodeSpan(s string) int {
	open := -1
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && open < 0:
			i++ // the next character is escaped
		case s[i] == '`' && open < 0:
			open = i
		case s[i] == '`':
			open = -1
		}
	}
	return open
}

// splitContent splits text into messages of at most limit characters,
// breaking at a newline, else a space, else anywhere. At most maxParts are
// returned; the last one says that the rest was left out.
func splitContent(text string, limit, maxParts int) []string {
	var parts []string
	for text != "" {
		if runes(text) <= limit {
			parts = append(parts, text)
			break
		}
		// Byte offset of the limit-th rune.
		end, n := 0, 0
		for i := range text {
			if n == limit {
				end = i
				break
			}
			n++
		}
		cut := strings.LastIndexByte(text[:end], '\n')
		if cut <= 0 {
			cut = strings.LastIndexByte(text[:end], ' ')
		}
		if cut <= 0 {
			cut = end
		}
		// Keep a code span and an escape pair whole, so neither message
		// shows a stray backtick or an unescaped character.
		if open := openCodeSpan(text[:cut]); open > 0 && strings.TrimSpace(text[:open]) != "" {
			cut = open
		}
		if danglingBackslash(text[:cut]) && cut > 1 {
			cut--
		}
		parts = append(parts, strings.TrimRight(text[:cut], " \n"))
		// The next message starts a line: "- x" from mid-sentence would be
		// a list item there.
		text = escapeListMarker(strings.TrimLeft(text[cut:], " \n"))
	}
	if len(parts) > maxParts {
		parts = parts[:maxParts]
		parts[maxParts-1] = truncate(parts[maxParts-1], limit-40) + "\n(the rest was left out)"
	}
	return parts
}

// fitEmbeds cuts embeds to Discord's limits in place: at most 10 embeds and
// 25 fields each, every text within its own limit, and the total across all
// embeds within 6000. When the total is over, the longest texts are cut
// first, down to a common length, so a huge quote cannot squeeze out the
// citations. Field names and values are never left empty, which Discord
// rejects.
func fitEmbeds(embeds []*discordgo.MessageEmbed) []*discordgo.MessageEmbed {
	if len(embeds) > maxEmbeds {
		embeds = embeds[:maxEmbeds]
	}
	type text struct {
		s        *string
		required bool // a field name or value: must stay non-empty
	}
	var texts []text
	for _, e := range embeds {
		if len(e.Fields) > maxEmbedFields {
			dropped := len(e.Fields) - (maxEmbedFields - 1)
			e.Fields = append(e.Fields[:maxEmbedFields-1], &discordgo.MessageEmbedField{
				Name: "…", Value: fmt.Sprintf("and %d more", dropped),
			})
		}
		e.Title = truncate(e.Title, maxEmbedTitle)
		e.Description = truncate(e.Description, maxEmbedDescription)
		texts = append(texts, text{s: &e.Title}, text{s: &e.Description})
		// Footers and author names are plain text: markdown escapes would
		// show there, so only mentions are broken.
		if e.Footer != nil {
			e.Footer.Text = truncate(mentionBreaker.Replace(e.Footer.Text), maxFooter)
			texts = append(texts, text{s: &e.Footer.Text})
		}
		if e.Author != nil {
			e.Author.Name = truncate(mentionBreaker.Replace(e.Author.Name), maxAuthorName)
			texts = append(texts, text{s: &e.Author.Name})
		}
		for _, f := range e.Fields {
			if strings.TrimSpace(f.Name) == "" {
				f.Name = zwsp
			}
			if strings.TrimSpace(f.Value) == "" {
				f.Value = zwsp
			}
			f.Name = truncate(f.Name, maxFieldName)
			f.Value = truncate(f.Value, maxFieldValue)
			texts = append(texts, text{s: &f.Name, required: true}, text{s: &f.Value, required: true})
		}
	}
	lengths := make([]int, len(texts))
	total := 0
	for i, t := range texts {
		lengths[i] = runes(*t.s)
		total += lengths[i]
	}
	if total <= maxEmbedTotal {
		return embeds
	}
	// Find the largest cap such that the texts, each cut to the cap, fit.
	// Every text keeps at least 2 characters (one and "…"), and there are
	// at most 10·(4+50) texts, so a cap of 2 always fits.
	fits := func(c int) bool {
		sum := 0
		for _, l := range lengths {
			sum += min(l, c)
		}
		return sum <= maxEmbedTotal
	}
	longest := slicesMax(lengths)
	c := sort.Search(longest+1, func(c int) bool { return !fits(c) }) - 1
	c = max(c, 2)
	for i, t := range texts {
		if lengths[i] > c {
			*t.s = truncate(*t.s, c)
		}
		if t.required && *t.s == "" {
			*t.s = zwsp
		}
	}
	return embeds
}

func slicesMax(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// embedLength is what Discord counts toward the 6000 total.
func embedLength(embeds []*discordgo.MessageEmbed) int {
	n := 0
	for _, e := range embeds {
		n += runes(e.Title) + runes(e.Description)
		if e.Footer != nil {
			n += runes(e.Footer.Text)
		}
		if e.Author != nil {
			n += runes(e.Author.Name)
		}
		for _, f := range e.Fields {
			n += runes(f.Name) + runes(f.Value)
		}
	}
	return n
}

// Custom ID prefixes of the buttons under an answer.
const (
	feedbackPrefix = "fb:"
	passagesPrefix = "passages:"
)

// AnswerMessage renders an answer as Discord shows it: one embed (the
// quoted answer with [n] markers, a field per cited source, a footer naming
// the publisher) and a row of buttons (feedback, and "Show passages" when
// there are passages to show). key names the answer in the feedback
// buttons' custom IDs; use the interaction id.
func AnswerMessage(a *retrieval.Answer, key string) ([]*discordgo.MessageEmbed, []discordgo.MessageComponent) {
	e := &discordgo.MessageEmbed{
		Title: EscapeMarkdown(flatten(a.Question)),
		Color: colorAnswer,
	}
	var desc strings.Builder
	cited := a.Citations
	switch {
	case len(cited) > 0:
		// Rebuilt from the citations rather than a.Text, so the quotes are
		// escaped and the [n] markers are not. A hedged answer says so
		// first and is coloured apart from a confident one.
		if a.Outcome == retrieval.OutcomeClosest {
			e.Color = colorClosest
			desc.WriteString(EscapeMarkdown(retrieval.ClosestIntro) + "\n")
		}
		if p := flatten(a.Preface); p != "" {
			desc.WriteString(EscapeMarkdown(p) + "\n")
		}
		for i, c := range cited {
			if i > 0 {
				desc.WriteByte(' ')
			}
			fmt.Fprintf(&desc, "%s [%d]", EscapeMarkdown(flatten(c.Quote)), c.N)
		}
	default:
		e.Color = colorDecline
		desc.WriteString(EscapeMarkdown(a.Text))
	}
	// On one line and trimmed, or the asterisks would not make it italic:
	// "* note" at a line start is a list item.
	if note := flatten(a.Note); note != "" {
		desc.WriteString("\n\n*" + EscapeMarkdown(note) + "*")
	}
	e.Description = desc.String()
	for _, c := range cited {
		e.Fields = append(e.Fields, citationField(c))
	}
	if footer := publishers(cited); footer != "" {
		e.Footer = &discordgo.MessageEmbedFooter{Text: footer}
	}
	embeds := fitEmbeds([]*discordgo.MessageEmbed{e})

	buttons := []discordgo.MessageComponent{
		discordgo.Button{Label: "Helpful", Style: discordgo.SecondaryButton,
			Emoji: &discordgo.ComponentEmoji{Name: "👍"}, CustomID: feedbackID(true, key)},
		discordgo.Button{Label: "Not helpful", Style: discordgo.SecondaryButton,
			Emoji: &discordgo.ComponentEmoji{Name: "👎"}, CustomID: feedbackID(false, key)},
	}
	if id := passagesID(a.Index, cited); id != "" {
		buttons = append(buttons, discordgo.Button{Label: "Show passages", Style: discordgo.PrimaryButton, CustomID: id})
	}
	return embeds, []discordgo.MessageComponent{discordgo.ActionsRow{Components: buttons}}
}

// citationField is one source under an answer: title, where in the story,
// the quoted sentence and a link.
func citationField(c retrieval.Citation) *discordgo.MessageEmbedField {
	title := c.Title
	if title == "" {
		title = c.StoryID
	}
	name := fmt.Sprintf("[%d] %s", c.N, EscapeMarkdown(flatten(title)))
	where := fmt.Sprintf("Paragraph %d, sentence %d", c.Paragraph, c.Sentence)
	if c.From != "" {
		where = "From the story's " + EscapeMarkdown(flatten(c.From))
	}
	value := fmt.Sprintf("%s\n> %s", where, EscapeMarkdown(flatten(c.Quote)))
	if link := markdownURL(c.URL); link != "" {
		// The link goes first so that cutting a long quote never cuts it.
		value = fmt.Sprintf("[Read the story](%s) · %s", link, value)
	}
	return &discordgo.MessageEmbedField{Name: name, Value: value}
}

// publishers names the publishers of the cited stories, for the footer.
func publishers(cited []retrieval.Citation) string {
	var names []string
	seen := map[string]bool{}
	for _, c := range cited {
		name := c.Publisher
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if c.Year != 0 {
			name += ", " + strconv.Itoa(c.Year)
		}
		names = append(names, name)
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "Source: " + names[0]
	}
	return "Sources: " + strings.Join(names, "; ")
}

// markdownURL makes a story URL safe inside a Markdown link: only http(s),
// and no characters that would end the link early. Line breaks are
// dropped; parentheses, angle brackets, white space of any kind (a tab,
// a no-break space), control and invisible format characters, and bytes
// that are not UTF-8 are percent-encoded.
func markdownURL(u string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(u); {
		r, size := utf8.DecodeRuneInString(u[i:])
		switch {
		case r == '\n' || r == '\r':
		case r == '(' || r == ')' || r == '<' || r == '>' || r == utf8.RuneError ||
			unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			for _, c := range []byte(u[i : i+size]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		default:
			b.WriteString(u[i : i+size])
		}
		i += size
	}
	return b.String()
}

// maxCodeSpan bounds an identifier shown as code. Real ones (versions,
// story IDs) are far shorter; the bound keeps a span from being longer than
// a message, where no split could keep it whole.
const maxCodeSpan = 200

// codeSpan shows an identifier (a version, a story ID) as code. Backticks
// are dropped because they would end the span. Markdown needs no escaping
// inside one, but mentions are broken all the same, in case a cut exposes
// the text.
func codeSpan(s string) string {
	s = truncate(strings.ReplaceAll(flatten(s), "`", ""), maxCodeSpan)
	if s == "" {
		return ""
	}
	return "`" + mentionBreaker.Replace(s) + "`"
}

// flatten puts text on one line: a quote's line breaks would otherwise end
// the block quote it sits in.
func flatten(s string) string { return strings.Join(strings.Fields(s), " ") }

func feedbackID(up bool, key string) string {
	vote := "down"
	if up {
		vote = "up"
	}
	return truncate(feedbackPrefix+vote+":"+key, maxCustomID)
}

// passagesID is the "Show passages" custom ID: the snapshot version and the
// distinct chunk IDs cited, as many as fit in Discord's 100 characters.
// Empty when nothing was cited, or when the version has a ":" and so would
// not parse back.
func passagesID(version string, cited []retrieval.Citation) string {
	if strings.Contains(version, ":") {
		return ""
	}
	id := passagesPrefix + version + ":"
	n := 0
	seen := map[string]bool{}
	for _, c := range cited {
		if c.ChunkID == "" || seen[c.ChunkID] || strings.ContainsAny(c.ChunkID, ",:") {
			continue
		}
		sep := ""
		if n > 0 {
			sep = ","
		}
		if len(id)+len(sep)+len(c.ChunkID) > maxCustomID {
			break
		}
		seen[c.ChunkID] = true
		id += sep + c.ChunkID
		n++
	}
	if n == 0 {
		return ""
	}
	return id
}

// parsePassagesID reverses passagesID.
func parsePassagesID(id string) (version string, chunks []string, ok bool) {
	rest, ok := strings.CutPrefix(id, passagesPrefix)
	if !ok {
		return "", nil, false
	}
	version, list, ok := strings.Cut(rest, ":")
	if !ok || list == "" {
		return "", nil, false
	}
	return version, strings.Split(list, ","), true
}

// parseFeedbackID reverses feedbackID.
func parseFeedbackID(id string) (up bool, key string, ok bool) {
	rest, ok := strings.CutPrefix(id, feedbackPrefix)
	if !ok {
		return false, "", false
	}
	vote, key, ok := strings.Cut(rest, ":")
	if !ok || key == "" || (vote != "up" && vote != "down") {
		return false, "", false
	}
	return vote == "up", key, true
}

// noMentions is the allowed_mentions every message carries: an empty,
// non-nil parse list serialises as "parse":[], which pings nobody whatever
// the text says.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}
