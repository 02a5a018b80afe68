package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
	"storybot/retrieval/encoder"
	"storybot/retrieval/wordvec"
)

var paragraphRE = regexp.MustCompile(`Paragraph (\d+), sentence`)

// citedParagraphs reads the paragraph of every source field.
func citedParagraphs(e *discordgo.MessageEmbed) []string {
	var ps []string
	for _, f := range e.Fields {
		if m := paragraphRE.FindStringSubmatch(f.Value); m != nil {
			ps = append(ps, m[1])
		}
	}
	return ps
}

// The headline case, with the real default embedder: "favors" only finds
// "supports" through the word vectors.
func TestAskWhoFavorsStrikesCitesParagraphs6And7(t *testing.T) {
	t.Parallel()
	emb, err := wordvec.New()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), retrieval.Options{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, bot.Config{Library: retrieval.NewLibrary(ix)})

	p := e.ask("who favors strikes?", member)
	m, req := e.final(p)
	if !strings.Contains(string(req.Body), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("answer lacks \"parse\":[]: %s", req.Body)
	}
	emb0 := answerEmbed(t, m)
	ps := citedParagraphs(emb0)
	if !slices.Contains(ps, "6") || !slices.Contains(ps, "7") {
		t.Errorf("cited paragraphs %v, want 6 and 7; fields %+v", ps, emb0.Fields)
	}
	if !strings.Contains(emb0.Description, "[1]") || !strings.Contains(emb0.Description, "Gorka") {
		t.Errorf("description = %q", emb0.Description)
	}
	if emb0.Footer == nil || !strings.Contains(emb0.Footer.Text, "Latin Times") {
		t.Errorf("footer = %+v, want the publisher", emb0.Footer)
	}
	if m.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Error("a plain /ask answered ephemerally")
	}
	ids := buttons(m)
	if len(ids) != 3 || !strings.HasPrefix(ids[0], "fb:up:"+p.ID()) || !strings.HasPrefix(ids[1], "fb:down:") || !strings.HasPrefix(ids[2], "passages:"+ix.Version()+":") {
		t.Errorf("buttons = %v", ids)
	}
	if got := e.metrics.question("answered"); got != 1 {
		t.Errorf("answered = %d", got)
	}
}

func TestAskPrivateIsEphemeral(t *testing.T) {
	t.Parallel()
	emb := &countingEmbedder{}
	lib := folderLibrary(t, writeStories(t), emb)
	e := start(t, bot.Config{Library: lib})

	p := e.ask("Who is the city engineer?", member, true)
	m, _ := e.final(p)
	if m.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Errorf("flags = %d, want ephemeral", m.Flags)
	}
	_, cb := e.callback(p)
	if cb.Data.Flags&int(discordgo.MessageFlagsEphemeral) == 0 {
		t.Errorf("callback type %d flags %d: the first response must carry the ephemeral flag", cb.Type, cb.Data.Flags)
	}
	if d := answerEmbed(t, m).Description; !strings.Contains(d, "Dana Whitfield") {
		t.Errorf("description = %q", d)
	}
}

// A slow answer is deferred (type 5, with the ephemeral flag when private)
// and then edited in with PATCH @original.
func TestSlowAnswerDefersThenEditsOriginal(t *testing.T) {
	t.Parallel()
	for _, private := range []bool{false, true} {
		t.Run(map[bool]string{false: "public", true: "private"}[private], func(t *testing.T) {
			t.Parallel()
			emb := &countingEmbedder{}
			lib := folderLibrary(t, writeStories(t), emb)
			e := start(t, bot.Config{Library: lib, DeferAfter: 50 * time.Millisecond})
			release := emb.hold()
			defer release()

			p := e.ask("Who is the city engineer?", member, private)
			cbReq, cb := e.callback(p)
			if cb.Type != 5 {
				t.Fatalf("callback type %d, want 5 (deferred)", cb.Type)
			}
			wantFlags := 0
			if private {
				wantFlags = int(discordgo.MessageFlagsEphemeral)
			}
			if cb.Data.Flags != wantFlags {
				t.Errorf("deferral flags %d, want %d", cb.Data.Flags, wantFlags)
			}
			if !strings.Contains(string(cbReq.Body), `"parse":[]`) {
				t.Errorf("deferral body %s", cbReq.Body)
			}
			release()

			edit, err := e.f.WaitFor(waitCtx(t), forToken(p.Token(), discordtest.RouteEditOriginal))
			if err != nil {
				t.Fatal(err)
			}
			if edit.Path != "/api/v9/webhooks/"+e.f.AppID()+"/"+p.Token()+"/messages/@original" {
				t.Errorf("edit path %s", edit.Path)
			}
			if !strings.Contains(string(edit.Body), `"allowed_mentions":{"parse":[]`) {
				t.Errorf("edit lacks \"parse\":[]: %s", edit.Body)
			}
			m, _ := e.f.Original(p.Token())
			if m.Flags&discordgo.MessageFlagsLoading != 0 || m.Flags&discordgo.MessageFlagsEphemeral != discordgo.MessageFlags(wantFlags) {
				t.Errorf("final flags %d", m.Flags)
			}
			if d := answerEmbed(t, m).Description; !strings.Contains(d, "Dana Whitfield") {
				t.Errorf("edited description = %q", d)
			}
			if edit.Time.Before(cbReq.Time) {
				t.Error("edit before the deferral")
			}
		})
	}
}

// Quoted text can hold @everyone and role or user mentions: the answer
// shows them as text and pings nobody.
func TestQuotedEveryonePingsNobody(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	p := e.ask("What did Pat Quinn write @everyone in the town chat?", member)
	m, req := e.final(p)
	if !strings.Contains(string(req.Body), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("answer lacks \"parse\":[]: %s", req.Body)
	}
	emb := answerEmbed(t, m)
	if !strings.Contains(emb.Description, "Pat Quinn") {
		t.Fatalf("did not quote the chat sentence: %q", emb.Description)
	}
	everything := emb.Title + emb.Description + m.Content
	for _, f := range emb.Fields {
		everything += f.Name + f.Value
	}
	for _, mention := range []string{"@everyone", "<@&123>", "<@456>", "*sorry*"} {
		if strings.Contains(everything, mention) {
			t.Errorf("answer contains live %q: %q", mention, everything)
		}
	}
	if !strings.Contains(emb.Description, "@\u200beveryone") || !strings.Contains(emb.Description, `\*sorry\*`) {
		t.Errorf("quote not shown escaped: %q", emb.Description)
	}
	if len(m.Mentions) != 0 || m.MentionEveryone || len(m.MentionRoles) != 0 {
		t.Errorf("message mentions: %v %v %v", m.Mentions, m.MentionEveryone, m.MentionRoles)
	}
}

// Discord's client writes a mention typed into the question as markup
// ("<@123…>"), and people greet the bot or the channel before asking. The
// markup is not read as words of the question, and the question shown back
// holds none of it.
func TestMentionsInTheQuestionAreNotRead(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	for _, q := range []string{
		"<@123456789012345678> Who voted against the library plan? @everyone <:thinking:987654321098765432>",
		"<@!123456789012345678> <@&234567890123456789> <#345678901234567890> Who voted against the library plan? </ask:456789012345678901> <t:1700000000:R> @here",
	} {
		p := e.ask(q, member)
		m, _ := e.final(p)
		emb := answerEmbed(t, m)
		if !strings.Contains(emb.Description, "Elena Ortiz") {
			t.Errorf("%q: description = %q", q, emb.Description)
		}
		if strings.Contains(emb.Title, "<") || strings.Contains(emb.Title, "@") || !strings.Contains(emb.Title, "Who voted against the library plan?") {
			t.Errorf("%q: title = %q, want the question without the markup", q, emb.Title)
		}
	}

	// Markup alone asks nothing.
	p := e.ask("<@123456789012345678> <:wave:987654321098765432>", member)
	_, cb := e.callback(p)
	if cb.Type != 4 || cb.Data.Flags&int(discordgo.MessageFlagsEphemeral) == 0 || !strings.Contains(cb.Data.Content, retrieval.ErrEmptyQuestion.Error()) {
		t.Errorf("markup alone: %+v", cb)
	}
}

// Two questions in one message are answered together: each part's quotes,
// numbered in turn, with a source field for each.
func TestTwoQuestionsInOneAsk(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	p := e.ask("Who voted against the library plan? Who is the city engineer?", member)
	m, _ := e.final(p)
	emb := answerEmbed(t, m)
	if !strings.Contains(emb.Description, "Elena Ortiz") || !strings.Contains(emb.Description, "Dana Whitfield") {
		t.Fatalf("description = %q, want both answers", emb.Description)
	}
	if len(emb.Fields) < 2 {
		t.Fatalf("fields = %+v, want a source for each answer", emb.Fields)
	}
	for i, f := range emb.Fields {
		if want := fmt.Sprintf("[%d] ", i+1); !strings.HasPrefix(f.Name, want) || !strings.Contains(emb.Description, strings.TrimSpace(want)) {
			t.Errorf("field %d = %q, want it numbered %s in the description %q", i, f.Name, want, emb.Description)
		}
	}
}

// "The story does not say" is an answer, not an error.
func TestDeclineReadsAsAnAnswer(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	p := e.ask("What is the capital of France?", member)
	m, _ := e.final(p)
	d := answerEmbed(t, m).Description
	if !strings.HasPrefix(d, "None of the stories say.") {
		t.Errorf("description = %q", d)
	}
	if m.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Error("a decline was sent like an error, ephemerally")
	}
	if e.metrics.question("declined") != 1 || e.metrics.question("error") != 0 {
		t.Errorf("metrics %+v", e.metrics.questions)
	}
}

func TestMessageCommandAsksWithTheMessageText(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	p := e.dispatch(e.f.MessageCommand("Ask storybot", &discordgo.Message{Content: "Who voted against the library plan?"}, member))
	m, _ := e.final(p)
	if d := answerEmbed(t, m).Description; !strings.Contains(d, "Elena Ortiz") {
		t.Errorf("description = %q", d)
	}

	empty := e.dispatch(e.f.MessageCommand("Ask storybot", &discordgo.Message{}, member))
	_, cb := e.callback(empty)
	if cb.Type != 4 || cb.Data.Flags&int(discordgo.MessageFlagsEphemeral) == 0 || !strings.Contains(cb.Data.Content, "no text") {
		t.Errorf("empty message: %+v", cb)
	}
}

// In a DM there is no member, only a user.
func TestAskInDM(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	p := e.ask("Who is the city engineer?", discordtest.Caller{UserID: "3003"})
	if _, ok := p["member"]; ok {
		t.Fatal("DM payload has a member")
	}
	m, _ := e.final(p)
	if d := answerEmbed(t, m).Description; !strings.Contains(d, "Dana Whitfield") {
		t.Errorf("description = %q", d)
	}
	if !strings.Contains(e.logs.String(), `"user":"3003"`) {
		t.Error("DM asker not logged by user id")
	}
}

func TestBadQuestionIsRefusedPrivately(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	// Passes Discord's min_length but is empty once cleaned.
	p := e.ask("\u200b\u200b", member)
	_, cb := e.callback(p)
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, retrieval.ErrEmptyQuestion.Error()) {
		t.Errorf("callback %+v", cb)
	}
}

func TestRateLimitAndConcurrencyCapAnswerAtOnce(t *testing.T) {
	t.Parallel()
	emb := &countingEmbedder{}
	lib := folderLibrary(t, writeStories(t), emb)
	e := start(t, bot.Config{Library: lib, PerUserPerMinute: 1, Concurrency: 1, DeferAfter: 50 * time.Millisecond})

	// One question in flight, held in the embedder: the cap is reached.
	release := emb.hold()
	defer release()
	first := e.ask("Who is the city engineer?", member)
	if _, cb := e.callback(first); cb.Type != 5 {
		t.Fatalf("first question: callback type %d, want a deferral", cb.Type)
	}
	busy := e.ask("Who voted against the library plan?", discordtest.Caller{GuildID: guild, UserID: "1002"})
	_, cb := e.callback(busy)
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "busy") {
		t.Errorf("over the concurrency cap: %+v", cb)
	}
	release()
	if _, err := e.f.WaitFor(waitCtx(t), forToken(first.Token(), discordtest.RouteEditOriginal)); err != nil {
		t.Fatal(err)
	}

	// The first user's budget of one a minute is spent.
	again := e.ask("Who voted against the library plan?", member)
	_, cb = e.callback(again)
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "try again in") {
		t.Errorf("over the rate limit: %+v", cb)
	}
	if got := e.metrics.question("rate_limited"); got != 2 {
		t.Errorf("rate_limited = %d, want 2", got)
	}
}

func TestFeedbackButtonsAndShowPassages(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	p := e.ask("Who is the city engineer?", member)
	m, _ := e.final(p)
	up := buttonWithPrefix(t, m, "fb:up:")
	down := buttonWithPrefix(t, m, "fb:down:")
	passages := buttonWithPrefix(t, m, "passages:")
	for _, id := range buttons(m) {
		if len(id) > 100 {
			t.Errorf("custom_id %q is over 100 characters", id)
		}
	}

	click := func(id string, c discordtest.Caller) callbackBody {
		t.Helper()
		_, cb := e.callback(e.dispatch(e.f.Button(id, m, c)))
		if cb.Type != 4 || cb.Data.Flags&int(discordgo.MessageFlagsEphemeral) == 0 {
			t.Errorf("button %s: callback %+v, want an ephemeral message", id, cb)
		}
		return cb
	}
	if cb := click(up, member); !strings.Contains(cb.Data.Content, "Thanks") {
		t.Errorf("first 👍: %q", cb.Data.Content)
	}
	if cb := click(up, member); !strings.Contains(cb.Data.Content, "already") {
		t.Errorf("second 👍: %q", cb.Data.Content)
	}
	if cb := click(down, member); !strings.Contains(cb.Data.Content, "Changed") {
		t.Errorf("👎 after 👍: %q", cb.Data.Content)
	}
	click(up, moderator)
	if u, d := e.metrics.feedback(); u != 2 || d != 1 {
		t.Errorf("feedback metrics up=%d down=%d, want 2 and 1", u, d)
	}
	if !strings.Contains(e.logs.String(), `"question":"Who is the city engineer?"`) {
		t.Error("feedback not logged with its question")
	}

	preq, err := e.f.WaitFor(waitCtx(t), forToken(e.dispatch(e.f.Button(passages, m, member)).Token(), discordtest.RouteCallback))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data struct {
			Flags  int                       `json:"flags"`
			Embeds []*discordgo.MessageEmbed `json:"embeds"`
		} `json:"data"`
	}
	if err := preq.Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Data.Flags != int(discordgo.MessageFlagsEphemeral) || len(body.Data.Embeds) == 0 {
		t.Fatalf("passages: %s", preq.Body)
	}
	if d := body.Data.Embeds[0].Description; !strings.Contains(d, "The Harbor Bridge reopened on Monday") || !strings.Contains(d, "Dana Whitfield") {
		t.Errorf("passage = %q, want the whole chunk", d)
	}
}

func TestSourcesListsStories(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	_, cb := e.callback(e.dispatch(e.f.SlashCommand("sources", nil, member)))
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) {
		t.Fatalf("callback %+v", cb)
	}
	r, _ := e.callback(e.dispatch(e.f.SlashCommand("sources", nil, member)))
	var body struct {
		Data struct {
			Embeds []*discordgo.MessageEmbed `json:"embeds"`
		} `json:"data"`
	}
	if err := r.Decode(&body); err != nil || len(body.Data.Embeds) != 1 {
		t.Fatalf("sources body %s (%v)", r.Body, err)
	}
	emb := body.Data.Embeds[0]
	ix := lib.Current()
	if !strings.Contains(emb.Description, ix.Version()) || !strings.Contains(emb.Description, "<t:") {
		t.Errorf("description %q lacks the version or the reload time", emb.Description)
	}
	if len(emb.Fields) != 3 {
		t.Fatalf("fields = %+v", emb.Fields)
	}
	counts := ix.StoryChunks()
	for i, s := range ix.Stories() {
		f := emb.Fields[i]
		if !strings.Contains(f.Name, s.Title) || !strings.Contains(f.Value, s.Publisher) {
			t.Errorf("field %d = %+v, want %s by %s", i, f, s.Title, s.Publisher)
		}
		if want := plural(counts[s.ID]); !strings.Contains(f.Value, want) {
			t.Errorf("field %d = %q, want %q", i, f.Value, want)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return "1 passage"
	}
	return fmt.Sprintf("%d passages", n)
}

// Before the first snapshot loads, questions get a private "still
// loading", not an error.
func TestNoIndexYet(t *testing.T) {
	t.Parallel()
	e := start(t, bot.Config{Library: retrieval.NewLibrary(nil)})
	_, cb := e.callback(e.ask("Who is the city engineer?", member))
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "still loading") {
		t.Errorf("ask: %+v", cb)
	}
	_, cb = e.callback(e.dispatch(e.f.SlashCommand("sources", nil, member)))
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "No stories") {
		t.Errorf("sources: %+v", cb)
	}
}

// A hedged answer ("the closest it comes") is counted as hedged, not as a
// decline or an answer, and reads as such in the embed.
func TestHedgedAnswerIsCountedAsHedged(t *testing.T) {
	t.Parallel()
	emb, err := wordvec.New()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encoder.New() // hedging needs the sentence encoder's reading
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), retrieval.Options{Embedder: emb, Encoder: enc})
	if err != nil {
		t.Fatal(err)
	}
	lib := retrieval.NewLibrary(ix)
	// The project's own on-topic questions the story does not answer.
	var set struct {
		Questions []struct{ Story, Q, Kind string }
	}
	b, err := os.ReadFile(filepath.Join("..", "testdata", "natural-questions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var candidates []string
	for _, nq := range set.Questions {
		if nq.Story == "default" && nq.Kind == "unanswerable" {
			candidates = append(candidates, nq.Q)
		}
	}
	q := ""
	for _, c := range candidates {
		a, err := lib.Ask(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome == retrieval.OutcomeClosest {
			q = c
			break
		}
	}
	if q == "" {
		t.Fatalf("none of %q is hedged on the built-in story", candidates)
	}
	e := start(t, bot.Config{Library: lib})
	m, _ := e.final(e.ask(q, member))
	if d := answerEmbed(t, m).Description; !strings.HasPrefix(d, retrieval.ClosestIntro) {
		t.Errorf("description = %q, want it to open with %q", d, retrieval.ClosestIntro)
	}
	if e.metrics.question("hedged") != 1 || e.metrics.question("declined") != 0 || e.metrics.question("answered") != 0 {
		t.Errorf("metrics %+v, want one hedged", e.metrics.questions)
	}
}
