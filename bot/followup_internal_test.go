package bot

import (
	"fmt"
	"testing"
	"time"
)

// TestConversationsAreBounded: a conversation is forgotten after its time,
// and past the bound the idlest goes first, so memory stays bounded however
// many people ask.
func TestConversationsAreBounded(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := newConversations(3, time.Minute)
	c.now = func() time.Time { return now }
	c.quoted("a", "bees")
	c.quoted("b", "")
	if got := c.story("a"); got != "bees" {
		t.Fatalf("story(a) = %q, want bees", got)
	}
	if got := c.story("b"); got != "" || c.size() != 1 {
		t.Errorf("an answer quoting no one story is remembered: %q, size %d", got, c.size())
	}
	now = now.Add(61 * time.Second)
	if got := c.story("a"); got != "" {
		t.Errorf("story(a) after its time = %q, want none", got)
	}
	for i := range 10 {
		now = now.Add(time.Second)
		c.quoted(fmt.Sprint("k", i), "bridge")
	}
	if c.size() > 3 {
		t.Errorf("%d conversations remembered, want at most 3", c.size())
	}
	if c.story("k9") != "bridge" || c.story("k8") != "bridge" || c.story("k0") != "" {
		t.Errorf("the newest were not the ones kept: k9 %q, k8 %q, k0 %q", c.story("k9"), c.story("k8"), c.story("k0"))
	}
	c.quoted("k9", "bees") // a known conversation is updated in place
	if c.story("k9") != "bees" || c.size() > 3 {
		t.Errorf("update: %q, size %d", c.story("k9"), c.size())
	}
}
