package retrieval

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"storybot/knowledge"
)

// bagEmbedder is a deterministic test embedder: each word adds one to a
// hashed dimension. It counts the texts it is asked to embed and can be made
// to fail or stall.
type bagEmbedder struct {
	id    string
	calls atomic.Int64
	texts atomic.Int64
	fail  error
	delay time.Duration
}

func (e *bagEmbedder) ID() string { return e.id }

func (e *bagEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.calls.Add(1)
	e.texts.Add(int64(len(texts)))
	if e.delay > 0 {
		select {
		case <-time.After(e.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.fail != nil {
		return nil, e.fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 32)
		for _, w := range Terms(t) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%32]++
		}
		out[i] = v
	}
	return out, nil
}

func story(id, body string) *knowledge.Story {
	return &knowledge.Story{ID: id, Title: "Title " + id, Publisher: "Pub", Body: body, Hash: id + body}
}

// buildStory indexes one story whose text is body.
func buildStory(t testing.TB, id, body string, opts Options) *Index {
	t.Helper()
	ix, err := Build(context.Background(), []*knowledge.Story{story(id, body)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// mustAsk asks ix q, failing the test on an error.
func mustAsk(t testing.TB, ix *Index, q string) *Answer {
	t.Helper()
	a, err := ix.Ask(context.Background(), q)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return a
}

func buildDefault(t testing.TB, opts Options) *Index {
	t.Helper()
	ix, err := Build(context.Background(), knowledge.Default(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestAskQuotesAndCites(t *testing.T) {
	ix := buildDefault(t, Options{})
	a, err := ix.Ask(context.Background(), "Who is the president of Mexico?")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Found || len(a.Citations) == 0 {
		t.Fatalf("not answered: %+v", a)
	}
	c := a.Citations[0]
	if c.Paragraph != 4 || !strings.Contains(c.Quote, "Claudia Sheinbaum") {
		t.Errorf("cited paragraph %d %q, want paragraph 4 naming Claudia Sheinbaum", c.Paragraph, c.Quote)
	}
	body := knowledge.Default()[0].Body
	for _, c := range a.Citations {
		if body[c.Start:c.End] != c.Quote {
			t.Errorf("citation %d offsets do not slice its quote", c.N)
		}
		if !strings.Contains(a.Text, fmt.Sprintf("[%d]", c.N)) {
			t.Errorf("answer text lacks marker [%d]: %s", c.N, a.Text)
		}
		if c.Publisher != "Latin Times" || c.Year != 2025 {
			t.Errorf("citation lacks the publisher: %+v", c)
		}
	}
}

func TestAskDeclinesWhatTheStoryDoesNotSay(t *testing.T) {
	ix := buildDefault(t, Options{})
	for _, q := range []string{"What is the capital of France?", "How tall is Mount Everest?", "What?"} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Found || len(a.Citations) != 0 || a.Outcome != OutcomeNone {
			t.Errorf("%q: answered %q (%s), want a decline", q, a.Text, a.Outcome)
		}
		if a.Text != "The story does not say." {
			t.Errorf("%q: decline reads %q", q, a.Text)
		}
	}
}

func TestAskNeverQuotesTheAttribution(t *testing.T) {
	ix := buildDefault(t, Options{})
	for _, q := range []string{"Who holds the copyright?", "Are all rights reserved?", "May I reproduce this without permission?"} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range a.Citations {
			if strings.Contains(c.Quote, "©") || strings.Contains(c.Quote, "rights reserved") {
				t.Errorf("%q quoted the attribution: %q", q, c.Quote)
			}
		}
	}
}

func TestAskRejectsBadQuestions(t *testing.T) {
	ix := buildDefault(t, Options{})
	tests := []struct {
		q    string
		want error
	}{
		{"", ErrEmptyQuestion},
		{"   \t\n ", ErrEmptyQuestion},
		{"\u200d\u200b", ErrEmptyQuestion},
		{strings.Repeat("a", MaxQuestionRunes+1), ErrQuestionTooLong},
		{"who\xff?", ErrInvalidText},
	}
	for _, tt := range tests {
		_, err := ix.Ask(context.Background(), tt.q)
		if !errors.Is(err, tt.want) {
			t.Errorf("Ask(%.20q) = %v, want %v", tt.q, err, tt.want)
		}
	}
	// Exactly at the limit is fine.
	if _, err := ix.Ask(context.Background(), strings.Repeat("é", MaxQuestionRunes)); err != nil {
		t.Errorf("a question at the limit was refused: %v", err)
	}
}

func TestBuildRejectsNoStories(t *testing.T) {
	if _, err := Build(context.Background(), nil, Options{}); err == nil {
		t.Error("Build with no stories succeeded")
	}
}

func TestEmbeddingCacheEmbedsOnlyNewText(t *testing.T) {
	emb := &bagEmbedder{id: "bag"}
	cache := NewEmbeddingCache()
	a := story("a", "Alpha sentence one. Alpha sentence two.")
	b := story("b", "Beta sentence one. Beta sentence two.")
	ix1, err := Build(context.Background(), []*knowledge.Story{a, b}, Options{Embedder: emb, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if ix1.Stats().Embedded == 0 || ix1.Stats().Cached != 0 {
		t.Fatalf("first build: %+v", ix1.Stats())
	}
	before := emb.texts.Load()
	b2 := story("b", "Beta sentence one. Beta sentence changed.")
	ix2, err := Build(context.Background(), []*knowledge.Story{a, b2}, Options{Embedder: emb, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	st := ix2.Stats()
	if st.Embedded != 1 || st.Cached != 1 {
		t.Errorf("second build embedded %d and reused %d chunks, want 1 and 1", st.Embedded, st.Cached)
	}
	// One new chunk and its one new sentence; nothing of story a.
	if got := emb.texts.Load() - before; got != 2 {
		t.Errorf("second build sent %d texts to the embedder, want 2", got)
	}
	if ix1.Version() == ix2.Version() {
		t.Error("different content, same version")
	}
}

func TestVectorLegGuardsChromemTraps(t *testing.T) {
	ctx := context.Background()
	// Zero vectors are left out (chromem would turn them into NaN), and a k
	// above the count is clamped (chromem refuses it).
	v, err := newVectorIndex(ctx, [][]float32{{1, 0}, {0, 0}, {0.5, 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if n := v.coll.Count(); n != 2 {
		t.Errorf("collection holds %d vectors, want 2 (zero vector skipped)", n)
	}
	hits, err := v.search(ctx, []float32{1, 0}, 10)
	if err != nil {
		t.Fatalf("k above the count: %v", err)
	}
	if len(hits) != 2 || hits[0].doc != 0 {
		t.Errorf("hits %v, want doc 0 first of 2", hits)
	}
	if hits, err := v.search(ctx, []float32{0, 0}, 3); err != nil || hits != nil {
		t.Errorf("zero query: %v, %v; want no hits, no error", hits, err)
	}
	if _, err := v.search(ctx, []float32{1, 0, 0}, 3); err == nil {
		t.Error("wrong dimension accepted")
	}
	nan := float32(0)
	nan = nan / nan
	if _, err := newVectorIndex(ctx, [][]float32{{nan, 1}}); err == nil {
		t.Error("NaN vector accepted")
	}
	// The collection never embeds on its own (no silent OpenAI calls).
	if _, err := v.coll.Query(ctx, "text", 1, nil, nil); !errors.Is(err, errNoEmbeddingFunc) {
		t.Errorf("collection embedded a text itself: %v", err)
	}
}

func TestSlowEmbedderFallsBackToLexical(t *testing.T) {
	emb := &bagEmbedder{id: "bag"}
	ix := buildDefault(t, Options{Embedder: emb, QueryTimeout: 50 * time.Millisecond})
	emb.delay = 10 * time.Second
	start := time.Now()
	a, err := ix.Ask(context.Background(), "Who is the president of Mexico?")
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v; the query timeout did not bound it", elapsed)
	}
	if !a.Found || a.Note == "" {
		t.Errorf("want a lexical answer with a note, got found=%v note=%q", a.Found, a.Note)
	}
	emb.delay, emb.fail = 0, errors.New("garbage")
	if a, err = ix.Ask(context.Background(), "Who is the president of Mexico?"); err != nil || a.Note == "" {
		t.Errorf("failing embedder: err %v, note %q", err, a.Note)
	}
}

// TestSnapshotSwapUnderLoad asks from many goroutines while snapshots of two
// different stories are swapped in and out. Every answer must come whole
// from one snapshot: its citations from the story that snapshot holds.
func TestSnapshotSwapUnderLoad(t *testing.T) {
	ctx := context.Background()
	red, err := Build(ctx, []*knowledge.Story{story("red", "The red fox jumped over the fence. Nobody saw the red fox again.")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	blue, err := Build(ctx, []*knowledge.Story{story("blue", "The blue fox jumped over the wall. Everyone saw the blue fox leave.")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	storyOf := map[string]string{red.Version(): "red", blue.Version(): "blue"}
	lib := NewLibrary(red)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				lib.Swap(blue)
			} else {
				lib.Swap(red)
			}
		}
	}()
	var answered atomic.Int64
	var askers sync.WaitGroup
	for g := 0; g < 8; g++ {
		askers.Add(1)
		go func() {
			defer askers.Done()
			for range 200 {
				a, err := lib.Ask(ctx, "What did the fox jump over?")
				if err != nil {
					t.Error(err)
					return
				}
				want, ok := storyOf[a.Index]
				if !ok {
					t.Errorf("answer from unknown snapshot %q", a.Index)
					return
				}
				for _, c := range a.Citations {
					if c.StoryID != want {
						t.Errorf("snapshot %s answered with a quote from %s", want, c.StoryID)
					}
				}
				if a.Found {
					answered.Add(1)
				}
			}
		}()
	}
	askers.Wait()
	close(stop)
	wg.Wait()
	if answered.Load() != 8*200 {
		t.Errorf("%d of %d questions answered", answered.Load(), 8*200)
	}
}

func TestLibraryWithoutIndex(t *testing.T) {
	var lib Library
	if _, err := lib.Ask(context.Background(), "who?"); !errors.Is(err, ErrNoIndex) {
		t.Errorf("got %v, want ErrNoIndex", err)
	}
}

func TestReloadReportsChangesAndKeepsServingOnFailure(t *testing.T) {
	ctx := context.Background()
	emb := &bagEmbedder{id: "bag"}
	a := story("a", "Alpha is first. Alpha leads.")
	b := story("b", "Beta is second. Beta follows.")
	ix, err := Build(ctx, []*knowledge.Story{a, b}, Options{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	lib := NewLibrary(ix)
	b2 := story("b", "Beta is second. Beta changed.")
	c := story("c", "Gamma is new.")
	rep, err := lib.Reload(ctx, func() ([]*knowledge.Story, error) { return []*knowledge.Story{b2, c}, nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Added, rep.Changed, rep.Removed) != "[c] [b] [a]" {
		t.Errorf("added %v changed %v removed %v, want [c] [b] [a]", rep.Added, rep.Changed, rep.Removed)
	}
	if rep.Embedded != 2 || rep.Version != lib.Current().Version() {
		t.Errorf("report %+v: want 2 chunks embedded (b's changed one, c's new one) and the new version", rep)
	}
	good := lib.Current()
	_, err = lib.Reload(ctx, func() ([]*knowledge.Story, error) { return nil, errors.New("broken.txt: not UTF-8 text") }, Options{})
	if err == nil || !strings.Contains(err.Error(), "broken.txt") {
		t.Errorf("failed reload error: %v", err)
	}
	if lib.Current() != good {
		t.Error("a failed reload replaced the serving snapshot")
	}
	emb.fail = errors.New("provider down")
	_, err = lib.Reload(ctx, func() ([]*knowledge.Story, error) { return []*knowledge.Story{story("d", "Delta text.")}, nil }, Options{})
	if err == nil || lib.Current() != good {
		t.Errorf("a reload whose embedding failed: err %v, snapshot replaced %v", err, lib.Current() != good)
	}
}

func TestCacheEntriesRoundTrip(t *testing.T) {
	c := NewEmbeddingCache()
	emb := &bagEmbedder{id: "bag"}
	if _, _, err := c.Embed(context.Background(), emb, []string{"one", "two"}); err != nil {
		t.Fatal(err)
	}
	d := NewEmbeddingCache()
	d.Put(c.Entries()...)
	_, embedded, err := d.Embed(context.Background(), emb, []string{"two", "one"})
	if err != nil || embedded != 0 {
		t.Errorf("restored cache embedded %d texts (err %v), want 0", embedded, err)
	}
}

// Odd but valid questions get an answer or a decline, never an error or a
// panic, and injected markup never reaches a quote (quotes are story text).
func TestAskOddQuestions(t *testing.T) {
	ix := buildDefault(t, Options{})
	for _, q := range []string{
		"مَن يؤيد الضربات العسكرية؟",                              // right-to-left script
		"👍🔥 who favors strikes? 💥💥",                               // emoji
		"who\u200d favors\u200b strikes?",                         // zero-width joiners
		"@everyone who favors strikes? <@&1>",                     // mention injection
		"```go\npanic()``` ||spoiler|| [x](https://evil.example)", // markdown
		strings.Repeat("strikes ", 120),
	} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil {
			t.Errorf("%.30q: %v", q, err)
			continue
		}
		for _, c := range a.Citations {
			if strings.ContainsAny(c.Quote, "@`|<") {
				t.Errorf("%.30q: quote carries markup: %q", q, c.Quote)
			}
		}
	}
	// Zero-width characters are invisible to the index.
	a, _ := ix.Ask(context.Background(), "Who is the presi\u200bdent of Mex\u200dico?")
	if !a.Found || a.Citations[0].Paragraph != 4 {
		t.Errorf("zero-width characters changed the answer: %+v", a)
	}
}

func TestVectorsAreWhatTheSnapshotUses(t *testing.T) {
	ctx := context.Background()
	emb := &bagEmbedder{id: "bag"}
	cache := NewEmbeddingCache()
	old, err := Build(ctx, []*knowledge.Story{story("a", "Old text here. More old text.")}, Options{Embedder: emb, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Build(ctx, []*knowledge.Story{story("a", "New text now. More new text.")}, Options{Embedder: emb, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Cache() != cache {
		t.Error("Cache() is not the cache the snapshot was built with")
	}
	saved := NewEmbeddingCache()
	saved.Put(cur.Vectors()...)
	if saved.Len() >= cache.Len() || saved.Len() == 0 {
		t.Fatalf("kept %d of %d vectors; want only the current snapshot's", saved.Len(), cache.Len())
	}
	// A restart from the saved vectors embeds nothing for the current text
	// but everything for the old.
	_, embedded, _ := saved.Embed(ctx, emb, []string{cur.ChunkText(0)})
	_, embeddedOld, _ := saved.Embed(ctx, emb, []string{old.ChunkText(0)})
	if embedded != 0 || embeddedOld != 1 {
		t.Errorf("embedded %d current and %d old texts, want 0 and 1", embedded, embeddedOld)
	}
}

// TestEncoderFailureFallsBackToWordVectors: a sentence encoder that stalls
// or fails costs the question its encoder, not its answer.
func TestEncoderFailureFallsBackToWordVectors(t *testing.T) {
	enc := &bagEmbedder{id: "enc"}
	ix := buildDefault(t, Options{Embedder: &bagEmbedder{id: "bag"}, Encoder: enc, QueryTimeout: 50 * time.Millisecond})
	if enc.texts.Load() != int64(ix.nSents) {
		t.Fatalf("encoder saw %d texts, want the %d sentences", enc.texts.Load(), ix.nSents)
	}
	ok, err := ix.Ask(context.Background(), "Who is the president of Mexico?")
	if err != nil || !ok.Found || ok.Degraded {
		t.Fatalf("healthy encoder: %+v, %v", ok, err)
	}
	if enc.texts.Load() != int64(ix.nSents)+1 {
		t.Errorf("the question was not encoded: %d texts", enc.texts.Load())
	}
	enc.delay = 10 * time.Second
	start := time.Now()
	a, err := ix.Ask(context.Background(), "Who is the president of Mexico?")
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v; the query timeout did not bound the encoder", elapsed)
	}
	if !a.Found || !a.Degraded || !strings.Contains(a.Note, "sentence encoder") {
		t.Errorf("stalled encoder: found=%v degraded=%v note=%q", a.Found, a.Degraded, a.Note)
	}
	enc.delay, enc.fail = 0, errors.New("garbage")
	if a, err = ix.Ask(context.Background(), "Who is the president of Mexico?"); err != nil || !a.Found || !a.Degraded {
		t.Errorf("failing encoder: %+v, %v", a, err)
	}
	// Cancelling the question is not a degraded answer but an error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Ask(ctx, "Who is the president of Mexico?"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled question: %v", err)
	}
}

// TestEncoderVectorsAreSaved: a restart from the saved vectors encodes no
// sentence again.
func TestEncoderVectorsAreSaved(t *testing.T) {
	ctx := context.Background()
	enc := &bagEmbedder{id: "enc"}
	ix := buildDefault(t, Options{Embedder: &bagEmbedder{id: "bag"}, Encoder: enc})
	saved := NewEmbeddingCache()
	saved.Put(ix.Vectors()...)
	before := enc.texts.Load()
	again, err := Build(ctx, knowledge.Default(), Options{Embedder: &bagEmbedder{id: "bag"}, Encoder: enc, Cache: saved})
	if err != nil {
		t.Fatal(err)
	}
	if n := enc.texts.Load() - before; n != 0 {
		t.Errorf("restart encoded %d sentences again", n)
	}
	if again.Version() != ix.Version() {
		t.Errorf("same stories and models, versions %s and %s", again.Version(), ix.Version())
	}
	plain := buildDefault(t, Options{Embedder: &bagEmbedder{id: "bag"}})
	if plain.Version() == ix.Version() {
		t.Error("adding an encoder did not change the snapshot's version")
	}
}

// TestEncoderOnlyBesideWordVectors: the encoder's weights and threshold
// assume the word vectors' cosine too, so without an embedder it is not run,
// and a question whose vector leg fails is read without it.
func TestEncoderOnlyBesideWordVectors(t *testing.T) {
	enc := &bagEmbedder{id: "enc"}
	buildDefault(t, Options{Encoder: enc})
	if enc.texts.Load() != 0 {
		t.Errorf("without an embedder the encoder still encoded %d texts", enc.texts.Load())
	}
	emb := &bagEmbedder{id: "bag"}
	ix := buildDefault(t, Options{Embedder: emb, Encoder: enc})
	encoded := enc.texts.Load()
	emb.fail = errors.New("provider down")
	a, err := ix.Ask(context.Background(), "Who is the president of Mexico?")
	if err != nil || !a.Found || !a.Degraded {
		t.Fatalf("vector leg down: %+v, %v", a, err)
	}
	if enc.texts.Load() != encoded {
		t.Error("the question was encoded though its vector leg failed")
	}
}

func TestBadInputGetsAClearReply(t *testing.T) {
	ix := buildDefault(t, Options{})
	for _, q := range []string{"¿Quién es el presidente de México?", "Wer ist der Präsident von Mexiko?", "墨西哥总统是谁", "Кто президент Мексики?"} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil || a.Outcome != OutcomeNone || a.Text != ForeignText || len(a.Citations) != 0 {
			t.Errorf("%q: %v %+v, want the other-language reply", q, err, a)
		}
	}
	for _, q := range []string{"Claudia Sheinbaum?", "Miller Gorka cartels", "who is miller"} {
		if a, err := ix.Ask(context.Background(), q); err != nil || a.Text == ForeignText {
			t.Errorf("%q read as another language: %v", q, err)
		}
	}
	for _, q := range []string{"🙂🙂🔥", "?!", "👍 👍"} {
		if _, err := ix.Ask(context.Background(), q); !errors.Is(err, ErrNoWords) {
			t.Errorf("%q: %v, want ErrNoWords", q, err)
		}
	}
	for _, q := range []string{"tl;dr of the bitcoin story", "what does the bitcoin story say", "tell me about the bitcoin article"} {
		a, err := ix.Ask(context.Background(), q)
		if err != nil || a.Outcome != OutcomeNone || !strings.Contains(a.Text, `no story about "bitcoin"`) || !strings.Contains(a.Text, "White House divided") {
			t.Errorf("%q, a story not loaded: %v %+v", q, err, a)
		}
	}
}
