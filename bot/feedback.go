package bot

import (
	"container/list"
	"fmt"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// Bounds on the feedback kept in memory: the most recent answers, and the
// voters remembered per answer (past that, votes still count but a repeat
// click is not recognised).
const (
	defaultFeedbackAnswers = 4096
	maxVotersPerAnswer     = 1000
)

// feedbackBook counts 👍/👎 per answer, keeping the most recently used
// answers. One vote per user and answer: clicking again does nothing,
// clicking the other button changes the vote.
type feedbackBook struct {
	mu      sync.Mutex
	max     int
	lru     *list.List // of *tally, most recently used first
	entries map[string]*list.Element
}

type tally struct {
	key, question, version string
	up, down               int
	votes                  map[string]bool // user ID → voted up
}

func newFeedbackBook(max int) *feedbackBook {
	return &feedbackBook{max: max, lru: list.New(), entries: map[string]*list.Element{}}
}

// get returns the tally of key, creating it (and evicting the least
// recently used one) if needed. Call with mu held.
func (f *feedbackBook) get(key string) *tally {
	if el, ok := f.entries[key]; ok {
		f.lru.MoveToFront(el)
		return el.Value.(*tally)
	}
	t := &tally{key: key, votes: map[string]bool{}}
	f.entries[key] = f.lru.PushFront(t)
	for f.lru.Len() > f.max {
		old := f.lru.Back()
		f.lru.Remove(old)
		delete(f.entries, old.Value.(*tally).key)
	}
	return t
}

// remember records what an answer was about, so feedback on it can be
// logged with its question.
func (f *feedbackBook) remember(key, question, version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.get(key)
	t.question, t.version = question, version
}

// voteResult is what a click did.
type voteResult struct {
	up, down          int
	question, version string
	counted           bool // a new vote or a changed one
	changed           bool // the user had voted the other way
}

func (f *feedbackBook) vote(key, user string, up bool) voteResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.get(key)
	res := voteResult{question: t.question, version: t.version}
	prev, voted := t.votes[user]
	switch {
	case voted && prev == up:
	case voted:
		if prev {
			t.up--
		} else {
			t.down--
		}
		res.counted, res.changed = true, true
	default:
		res.counted = true
	}
	if res.counted {
		if up {
			t.up++
		} else {
			t.down++
		}
		if voted || len(t.votes) < maxVotersPerAnswer {
			t.votes[user] = up
		}
	}
	res.up, res.down = t.up, t.down
	return res
}

// onFeedback counts a 👍/👎 click and thanks the user privately. The answer
// itself is left alone: updating it with live counts would edit a message
// everyone sees on every click and invite pile-ons, while the counts are
// for the operators (logs and metrics).
func (c *call) onFeedback(customID string) {
	up, key, ok := parseFeedbackID(customID)
	if !ok {
		c.replyEphemeral("That button no longer works.")
		return
	}
	res := c.b.feedback.vote(key, c.userID(), up)
	if stored, ok := c.storedVote(key, up); ok {
		// The database's count is the one all replicas share, and it
		// survives restarts: it decides.
		res.counted, res.changed, res.up, res.down = stored.Counted, stored.Changed, stored.Up, stored.Down
		if res.question == "" {
			if a, ok := c.storedAnswer(key); ok {
				res.question, res.version = a.Question, a.IndexVersion
			}
		}
	}
	thumb := "👎"
	if up {
		thumb = "👍"
	}
	if res.counted {
		c.b.metrics.Feedback(up)
	}
	c.log.Info("feedback", "answer", key, "up", up, "counted", res.counted, "changed", res.changed,
		"question", res.question, "index", res.version, "ups", res.up, "downs", res.down)
	switch {
	case !res.counted:
		c.replyEphemeral("You already rated this answer " + thumb + ".")
	case res.changed:
		c.replyEphemeral("Changed your rating to " + thumb + ". Thanks!")
	default:
		c.replyEphemeral("Thanks for the " + thumb + "! It helps us improve the answers.")
	}
}

// showPassages shows the full passages an answer cites, privately. The
// button names the snapshot the answer came from; if the stories have been
// reloaded since, the passages are looked up in the current one, where an
// unchanged passage keeps its ID.
func (c *call) showPassages(customID string) {
	version, ids, ok := parsePassagesID(customID)
	if !ok {
		c.replyEphemeral("That button no longer works.")
		return
	}
	ix := c.b.lib.Current()
	if ix == nil {
		c.replyEphemeral("No stories are loaded yet.")
		return
	}
	embeds, missing := PassageEmbeds(ix, ids)
	var notes []string
	if ix.Version() != version {
		notes = append(notes, "The stories were reloaded since this answer; these are the passages as they are now.")
	}
	if missing > 0 {
		// Passages the stories no longer hold: the sentences the answer
		// quoted were stored with it, on whichever replica answered.
		if quoted := c.storedQuotes(ix, ids); quoted != nil {
			embeds = fitEmbeds(append(embeds, quoted))
			notes = append(notes, "Passages no longer in the stories are shown as quoted when the answer was given.")
			missing = 0
		}
	}
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("%d of the cited passages %s no longer in the stories.", missing, plural(missing, "is", "are")))
	}
	c.log.Info("show passages", "index", version, "current", ix.Version(), "found", len(embeds), "missing", missing)
	if len(embeds) == 0 {
		c.replyEphemeral(strings.Join(notes, " "))
		return
	}
	_ = c.respond(&discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: truncate(strings.Join(notes, " "), maxContent),
			Embeds:  embeds,
			Flags:   discordgo.MessageFlagsEphemeral,
		},
	})
}

// PassageEmbeds renders the chunks with the given IDs, one embed each, and
// counts the IDs not found in ix.
func PassageEmbeds(ix *retrieval.Index, chunkIDs []string) (embeds []*discordgo.MessageEmbed, missing int) {
	for _, id := range chunkIDs {
		p, ok := ix.Passage(id)
		if !ok {
			missing++
			continue
		}
		s := p.Story
		title := s.Title
		if title == "" {
			title = s.ID
		}
		e := &discordgo.MessageEmbed{
			Title:       EscapeMarkdown(flatten(title)),
			Description: EscapeMarkdown(p.Text),
			Color:       colorAnswer,
		}
		if first, last := p.FirstParagraph, p.LastParagraph; first > 0 {
			where := fmt.Sprintf("Paragraph %d", first)
			if last != first {
				where = fmt.Sprintf("Paragraphs %d–%d", first, last)
			}
			if s.Publisher != "" {
				where += " · " + s.Publisher
			}
			e.Footer = &discordgo.MessageEmbedFooter{Text: where}
		}
		embeds = append(embeds, e)
	}
	return fitEmbeds(embeds), missing
}
