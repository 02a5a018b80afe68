package retrieval

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"storybot/knowledge"
)

// TestChunkTermsAreItsSentencesTerms: the chunk BM25 takes a chunk's terms
// from its sentences' (assemble), which holds only if tokenising the
// chunk's text gives the same terms.
func TestChunkTermsAreItsSentencesTerms(t *testing.T) {
	stories := append(knowledge.Default(),
		story("odd", "“Quoted,” she said. (An aside.) Don't stop—now!\n\nA new paragraph… with an ellipsis? Yes. Trump's U.S. visit cost $3.5m; 10,000 came."),
		story("lines", "Line one without a stop\nline two goes on.\n\n\n  Indented third paragraph.   "),
	)
	ix, err := Build(context.Background(), stories, Options{Chunking: ChunkOptions{MinWords: 5, MaxWords: 12, Overlap: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range ix.chunks {
		var got []string
		for g := ix.storyBase[c.Story] + c.First; g <= ix.storyBase[c.Story]+c.Last; g++ {
			got = append(got, ix.sentenceTerms(g)...)
		}
		if want := Terms(ix.ChunkText(i)); !slices.Equal(got, want) {
			t.Errorf("chunk %d %q: sentences' terms %q, the chunk's %q", i, ix.ChunkText(i), got, want)
		}
	}
}

// TestSentenceLookupsAgreeWithTheSentences: the look-ups that read the
// segments' varint terms and the stories' bases (storyOf, paragraphOf,
// firstSentenceWith) agree with the sentences as split, for every sentence,
// term and range edge, including stories with sentences without terms.
func TestSentenceLookupsAgreeWithTheSentences(t *testing.T) {
	stories := append(knowledge.Default(),
		story("short", "Yes. No. It is. The harbour reopened on Monday.\n\nShips queued."),
		story("more", "The harbour closed. Monday came.\n\nA ship left on Monday. It was late."),
	)
	ix, err := Build(context.Background(), stories, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := 0
	for si, s := range stories {
		for _, st := range SplitStory(s.Body) {
			if ix.storyOf(g) != si || ix.paragraphOf(g) != st.Paragraph || ix.sentence(g) != st {
				t.Fatalf("sentence %d: story %d paragraph %d %+v, want %d, %d, %+v", g, ix.storyOf(g), ix.paragraphOf(g), ix.sentence(g), si, st.Paragraph, st)
			}
			g++
		}
	}
	if g != ix.nSents {
		t.Fatalf("%d sentences split, the index has %d", g, ix.nSents)
	}
	naive := func(term string, lo, hi int) int {
		for g := lo; g < hi; g++ {
			if slices.Contains(ix.sentenceTerms(g), term) {
				return g
			}
		}
		return -1
	}
	terms := map[string]bool{"absent": true}
	for g := range ix.nSents {
		for _, t := range ix.sentenceTerms(g) {
			terms[t] = true
		}
	}
	edges := []int{0, 1, ix.nSents - 1, ix.nSents}
	for _, b := range ix.storyBase {
		edges = append(edges, b-1, b, b+1)
	}
	for term := range terms {
		for _, lo := range edges {
			for _, hi := range edges {
				if lo < 0 || hi > ix.nSents {
					continue
				}
				if got, want := ix.firstSentenceWith(term, lo, hi), naive(term, lo, hi); got != want {
					t.Fatalf("firstSentenceWith(%q, %d, %d) = %d, want %d", term, lo, hi, got, want)
				}
			}
		}
	}
}

// TestReloadReusesUnchangedSegments: a reload shares the unchanged stories'
// segments with the snapshot it replaces, builds only the changed one, and
// leaves the old snapshot answering as before.
func TestReloadReusesUnchangedSegments(t *testing.T) {
	ctx := context.Background()
	emb := &bagEmbedder{id: "bag"}
	enc := &bagEmbedder{id: "enc"}
	a := story("a", "The harbour reopened on Monday. Ships queued for a week.")
	b := story("b", "The council approved the budget. The vote was close.")
	old, err := Build(ctx, []*knowledge.Story{a, b}, Options{Embedder: emb, Encoder: enc})
	if err != nil {
		t.Fatal(err)
	}
	lib := NewLibrary(old)
	before, err := old.Ask(ctx, "When did the harbour reopen?")
	if err != nil {
		t.Fatal(err)
	}
	emb.texts.Store(0)
	enc.texts.Store(0)
	a2 := story("a", "The harbour reopened on Monday. Ships queued for ten days.")
	rep, err := lib.Reload(ctx, func() ([]*knowledge.Story, error) { return []*knowledge.Story{a2, b}, nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cur := lib.Current()
	if cur.segs[1] != old.segs[1] {
		t.Error("the unchanged story's segment was rebuilt, not shared")
	}
	if cur.segs[0] == old.segs[0] {
		t.Error("the changed story's segment was reused")
	}
	// The changed story's one chunk and one new sentence; its unchanged
	// first sentence comes from the old segment.
	if got := emb.texts.Load(); got != 2 || rep.Embedded != 1 {
		t.Errorf("reload sent %d texts to the embedder and embedded %d chunks, want 2 and 1", got, rep.Embedded)
	}
	if got := enc.texts.Load(); got != 1 {
		t.Errorf("reload sent %d texts to the encoder, want 1", got)
	}
	after, err := old.Ask(ctx, "When did the harbour reopen?")
	if err != nil {
		t.Fatal(err)
	}
	if after.Text != before.Text || old.ChunkText(0) != "The harbour reopened on Monday. Ships queued for a week." {
		t.Errorf("the old snapshot changed: %q then %q", before.Text, after.Text)
	}
	if cur.sentenceCosines(ctx, []int{1}, make([]float32, 32))[0] != 0 {
		t.Error("a zero question vector has a cosine")
	}
}

// TestRestartFromSegmentsEmbedsNothing: a cache holding only the
// snapshot's segment vectors (what a restart reads from disk) builds the
// same snapshot without any model call.
func TestRestartFromSegmentsEmbedsNothing(t *testing.T) {
	ctx := context.Background()
	emb := &bagEmbedder{id: "bag"}
	enc := &bagEmbedder{id: "enc"}
	ix := buildDefault(t, Options{Embedder: emb, Encoder: enc})
	saved := NewEmbeddingCache()
	saved.PutSegments(ix.Segments()...)
	if saved.Len() == 0 {
		t.Fatal("no vectors saved")
	}
	calls := emb.calls.Load() + enc.calls.Load()
	again, err := Build(ctx, knowledge.Default(), Options{Embedder: emb, Encoder: enc, Cache: saved})
	if err != nil {
		t.Fatal(err)
	}
	if got := emb.calls.Load() + enc.calls.Load() - calls; got != 0 || again.Stats().Embedded != 0 {
		t.Errorf("restart made %d model calls, embedded %d chunks; want 0", got, again.Stats().Embedded)
	}
	if again.Version() != ix.Version() {
		t.Errorf("version %s, want %s", again.Version(), ix.Version())
	}
	q := "Who announced the plan?"
	a1, err1 := ix.Ask(ctx, q)
	a2, err2 := again.Ask(ctx, q)
	if err1 != nil || err2 != nil || a1.Text != a2.Text {
		t.Errorf("answers differ after the restart: %q (%v) vs %q (%v)", a1.Text, err1, a2.Text, err2)
	}
}

// TestReloadCarriesOverTheSameIndex: a reload builds its BM25, sentence
// counts and vector scan from the snapshot it replaces plus what changed;
// after each of a run of random edits (stories changed, added, removed)
// they must be exactly what building from the segments gives.
func TestReloadCarriesOverTheSameIndex(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(14, 1))
	words := strings.Fields("harbour council budget vote strike flood bridge railway mayor court appeal wage tariff port cargo storm school clinic loan bond")
	body := func() string {
		var sb strings.Builder
		for range 3 + r.IntN(8) {
			for w := range 4 + r.IntN(10) {
				if w > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(words[r.IntN(len(words))])
				if r.IntN(9) == 0 {
					fmt.Fprintf(&sb, " %d", r.IntN(50)) // new terms over time
				}
			}
			sb.WriteString(". ")
			if r.IntN(4) == 0 {
				sb.WriteString("\n\n")
			}
		}
		return sb.String()
	}
	live := map[string]string{}
	for i := range 30 {
		live[fmt.Sprintf("s%02d", i)] = body()
	}
	next := 30
	load := func() ([]*knowledge.Story, error) {
		var out []*knowledge.Story
		for id, b := range live {
			out = append(out, story(id, b))
		}
		slices.SortFunc(out, func(a, b *knowledge.Story) int { return strings.Compare(a.ID, b.ID) })
		return out, nil
	}
	opts := Options{Embedder: &bagEmbedder{id: "bag"}, Chunking: ChunkOptions{MinWords: 10, MaxWords: 25, Overlap: 1}}
	stories, _ := load()
	first, err := Build(ctx, stories, opts)
	if err != nil {
		t.Fatal(err)
	}
	lib := NewLibrary(first)
	for step := range 25 {
		ids := slices.Sorted(maps.Keys(live))
		for range 1 + r.IntN(3) {
			switch id := ids[r.IntN(len(ids))]; r.IntN(4) {
			case 0:
				live[fmt.Sprintf("s%02d", next)] = body()
				next++
			case 1:
				if len(live) > 5 {
					delete(live, id)
				}
			default:
				live[id] = body()
			}
		}
		old := lib.Current()
		if _, err := lib.Reload(ctx, load, Options{}); err != nil {
			t.Fatal(err)
		}
		cur := lib.Current()
		if cur.reusePlan(old) == nil {
			t.Fatalf("step %d: the reload shared too little with the snapshot before to carry it over", step)
		}
		scratch := &Index{opts: cur.opts, stories: cur.stories, segs: cur.segs, dict: cur.dict}
		if err := scratch.assemble(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cur.lexical, scratch.lexical) {
			t.Fatalf("step %d: the carried-over BM25 differs from one built from the segments", step)
		}
		if !reflect.DeepEqual(cur.sentDF, scratch.sentDF) {
			t.Fatalf("step %d: the carried-over sentence counts differ", step)
		}
		if !reflect.DeepEqual(cur.vectors.scan, scratch.vectors.scan) {
			t.Fatalf("step %d: the carried-over vector scan differs", step)
		}
		if cur.vectors.coll.Count() != scratch.vectors.coll.Count() {
			t.Fatalf("step %d: the collection holds %d documents, want %d", step, cur.vectors.coll.Count(), scratch.vectors.coll.Count())
		}
		for r, d := range scratch.vectors.scan.docs {
			doc, err := cur.vectors.coll.GetByID(ctx, strconv.Itoa(int(d)))
			if want := scratch.vectors.scan.rows[r*32 : (r+1)*32]; err != nil || !slices.Equal(doc.Embedding, want) {
				t.Fatalf("step %d: the collection's document %d is %v (%v), want %v", step, d, doc.Embedding, err, want)
			}
		}
	}
}

// TestTermDictStaysBounded: stories rewritten with new words again and
// again leave their old words in the term dictionary until the dead ones
// outnumber the live; then a reload starts it again, and the snapshot it
// serves is the one a build from nothing gives.
func TestTermDictStaysBounded(t *testing.T) {
	ctx := context.Background()
	body := func(gen, i int) string {
		var sb strings.Builder
		for s := range 6 {
			for w := range 12 {
				fmt.Fprintf(&sb, "w%dx%dx%dx%d ", gen, i, s, w) // each a new term
			}
			sb.WriteString("harbour. ")
		}
		return sb.String()
	}
	const n = 20
	gen := make([]int, n)
	load := func() ([]*knowledge.Story, error) {
		var out []*knowledge.Story
		for i := range n {
			out = append(out, story(fmt.Sprintf("s%02d", i), body(gen[i], i)))
		}
		return out, nil
	}
	opts := Options{Embedder: &bagEmbedder{id: "bag"}}
	stories, _ := load()
	first, err := Build(ctx, stories, opts)
	if err != nil {
		t.Fatal(err)
	}
	live := first.liveTerms()
	lib := NewLibrary(first)
	compacted := false
	for step := range 60 {
		for i := range n / 2 {
			gen[(step*n/2+i)%n]++
		}
		old := lib.Current()
		if _, err := lib.Reload(ctx, load, Options{}); err != nil {
			t.Fatal(err)
		}
		cur := lib.Current()
		if cur.dict != old.dict {
			compacted = true
			if cur.dict.size() != cur.liveTerms() {
				t.Fatalf("step %d: the new dictionary holds %d terms, the snapshot %d", step, cur.dict.size(), cur.liveTerms())
			}
		}
		if size := cur.dict.size(); size > 2*live+minDeadTerms+live {
			t.Fatalf("step %d: the dictionary holds %d terms for %d live ones", step, size, cur.liveTerms())
		}
		stories, _ := load()
		fresh, err := Build(ctx, stories, opts)
		if err != nil {
			t.Fatal(err)
		}
		q := fmt.Sprintf("w%dx3x2x5 harbour", gen[3])
		got, err1 := cur.Search(ctx, q, 5)
		want, err2 := fresh.Search(ctx, q, 5)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: search %v (%v), a fresh build's %v (%v)", step, got, err1, want, err2)
		}
		for s := range cur.segs {
			if !slices.Equal(cur.sentenceTerms(cur.storyBase[s]), fresh.sentenceTerms(fresh.storyBase[s])) {
				t.Fatalf("step %d: story %d's first sentence reads %v, a fresh build's %v", step, s, cur.sentenceTerms(cur.storyBase[s]), fresh.sentenceTerms(fresh.storyBase[s]))
			}
		}
	}
	if !compacted {
		t.Error("the dictionary never started again")
	}
	// Old snapshots keep their own dictionary and segments, whole.
	if terms := first.sentenceTerms(0); len(terms) == 0 || terms[0] != "w0x0x0x0" {
		t.Errorf("the first snapshot's first sentence now reads %v", terms)
	}
}
