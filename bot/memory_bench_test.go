package bot

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
	"storybot/storage"
)

// BenchmarkRemember is what the question log adds to each /ask on the
// answer path: hashing the user and queueing the log row and the answer
// for the writer, which writes them to a real SQLite file meanwhile.
func BenchmarkRemember(b *testing.B) {
	ctx := context.Background()
	db, err := storage.OpenSQLite(ctx, filepath.Join(b.TempDir(), storage.SQLiteFile))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w := storage.NewWriter(ctx, db, storage.WriterOptions{LogQuestions: true, QueueSize: 1 << 20})
	defer w.Close()
	users, _ := storage.NewHasher([]byte("a-benchmark-salt-0123456789"))
	bot := &Bot{cfg: Config{Memory: &Memory{Store: db, Writer: w, Users: users}}}
	a := &retrieval.Answer{Found: true, Score: 0.9, Index: "v1", Citations: []retrieval.Citation{
		{N: 1, StoryID: "alpha", Paragraph: 1, Sentence: 1, ChunkID: "c1", Quote: "The Harbor Bridge reopened on Monday after eight months of repairs."},
		{N: 2, StoryID: "alpha", Paragraph: 2, Sentence: 1, ChunkID: "c1", Quote: "The city engineer, Dana Whitfield, said the steel cables had been replaced."},
	}}
	c := &call{b: bot, ctx: ctx, user: &discordgo.User{ID: "1001"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.i = &discordgo.Interaction{ID: "i" + string(rune('a'+i%26)), GuildID: "81384788765712384"}
		c.remember("When did the Harbor Bridge reopen?", a, time.Millisecond)
	}
	if d := w.Dropped(); d > 0 {
		b.Fatalf("%d rows dropped", d)
	}
}
