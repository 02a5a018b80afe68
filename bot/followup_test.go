package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
	"storybot/storage"
)

// Two stories for the follow-up tests.
var (
	followUpBees = &knowledge.Story{ID: "bees", Title: "Bees return to the valley", Publisher: "Valley News", Year: 2021, Hash: "bees",
		Body: "Bees returned to the valley in 2021 after three years of decline, beekeepers said on Monday.\n\nThe beekeeper Ada Crane counted 2,000 hives across the valley this spring."}
	followUpBridge = &knowledge.Story{ID: "bridge", Title: "River bridge opens", Publisher: "Town Courier", Year: 2023, Hash: "bridge",
		Body: "The mayor opened the new river bridge on Monday, two years after the old one was closed.\n\nAbout 300 people came to walk across it."}
)

// TestAskFollowsUpOnTheLastStory: with two stories, "who published this"
// after an answer about one of them is answered from that one, for that
// asker in that channel; another asker, or the same asker in another
// channel, gets the list of stories, since nothing points to one.
func TestAskFollowsUpOnTheLastStory(t *testing.T) {
	t.Parallel()
	ix, err := retrieval.Build(context.Background(), []*knowledge.Story{followUpBees, followUpBridge}, retrieval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, bot.Config{Library: retrieval.NewLibrary(ix)})
	description := func(q string, c discordtest.Caller) string {
		t.Helper()
		m, _ := e.final(e.ask(q, c))
		return answerEmbed(t, m).Description
	}

	if d := description("who counted the hives", member); !strings.Contains(d, "Ada Crane") {
		t.Fatalf("first question: %q", d)
	}
	if d := description("who published this", member); !strings.Contains(d, "Valley News") {
		t.Errorf("follow-up by the same asker: %q, want the bee story's publisher", d)
	}
	other := member
	other.UserID = "1002"
	if d := description("who published this", other); !strings.HasPrefix(d, "I know 2 stories") {
		t.Errorf("another asker: %q, want the list of stories", d)
	}
	elsewhere := member
	elsewhere.ChannelID = "555000000000000001"
	if d := description("who published this", elsewhere); !strings.HasPrefix(d, "I know 2 stories") {
		t.Errorf("the same asker in another channel: %q, want the list of stories", d)
	}
	// A question about the other story moves the conversation on.
	if d := description("how many people walked across the bridge", member); !strings.Contains(d, "About 300 people") {
		t.Fatalf("question about the bridge: %q", d)
	}
	if d := description("who published this", member); !strings.Contains(d, "Town Courier") {
		t.Errorf("follow-up after the bridge: %q, want the bridge story's publisher", d)
	}
}

// TestFollowUpsAcrossReplicas: two bots on one database, as two replicas
// behind Discord's HTTP interactions would be. A question answered by A
// and its follow-up served by B: B reads the story A quoted from the
// database. The database holds the conversation's key hashed, never the
// raw channel and user IDs.
func TestFollowUpsAcrossReplicas(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d database) {
		ix, err := retrieval.Build(context.Background(), []*knowledge.Story{followUpBees, followUpBridge}, retrieval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		lib := retrieval.NewLibrary(ix)
		replica := func() (*env, *storage.DB) {
			db := d.open(t)
			return start(t, bot.Config{Library: lib, Memory: memoryOn(t, db)}), db
		}
		a, db := replica()
		b, _ := replica()
		asker := member
		asker.ChannelID = "555000000000000002"
		description := func(e *env, q string) string {
			t.Helper()
			m, _ := e.final(e.ask(q, asker))
			return answerEmbed(t, m).Description
		}
		if d := description(a, "who counted the hives"); !strings.Contains(d, "Ada Crane") {
			t.Fatalf("first question, on A: %q", d)
		}
		// The writer stores the story without making the answer wait: wait
		// for it here, as the next question would come seconds later.
		users, err := storage.NewHasher(testSalt)
		if err != nil {
			t.Fatal(err)
		}
		key := string(users.User(bot.ConversationKey(asker.ChannelID, asker.UserID)))
		ctx := waitCtx(t)
		for {
			story, err := db.LastStory(ctx, key, time.Now().Add(-time.Minute))
			if err == nil && story == "bees" {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the story A quoted never reached the database: %q, %v", story, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
		if d := description(b, "who published this"); !strings.Contains(d, "Valley News") {
			t.Errorf("the follow-up, on B: %q, want the bee story's publisher", d)
		}
		if story, _ := db.LastStory(context.Background(), bot.ConversationKey(asker.ChannelID, asker.UserID), time.Now().Add(-time.Hour)); story != "" {
			t.Errorf("the raw channel and user IDs are a key in the database")
		}
	})
}
