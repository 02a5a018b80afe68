package discordtest

import (
	"bytes"
	"net/http"
	"testing"
)

// TestPermissionsQuirkIsReal shows the raw validator rejecting what
// discordgo sends for default_member_permissions, so the filter in
// describe is needed, and that the filter removes exactly that failure.
func TestPermissionsQuirkIsReal(t *testing.T) {
	t.Parallel()
	RequireSpec(t)
	v, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`[{"name":"reindex","description":"Rebuild","default_member_permissions":"32","options":null}]`)
	hr, err := http.NewRequest("PUT", specServer+"/applications/1/commands", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bot x")
	spec.mu.Lock()
	_, verrs := v.ValidateHttpRequestSync(hr)
	spec.mu.Unlock()
	if len(verrs) != 1 || len(verrs[0].SchemaValidationErrors) != 1 {
		t.Fatalf("raw validation errors = %v", verrs)
	}
	sf := verrs[0].SchemaValidationErrors[0]
	if sf.FieldPath != "$[0].default_member_permissions" {
		t.Errorf("failure at %q: %s", sf.FieldPath, sf.Reason)
	}
	if !isPermissionsQuirk(sf, body) {
		t.Error("filter does not recognise the quirk")
	}
	if got := describe(verrs[0], body); len(got) != 0 {
		t.Errorf("after filtering: %v", got)
	}
}
