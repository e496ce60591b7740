package main

import (
	"regexp"
	"slices"
	"testing"
)

// The module's own tests: a journey that opens its browser through a helper is listed, an API test
// of the same package is not, and the pattern matches whole names only.
func TestListsTheBrowserJourneysOnly(t *testing.T) {
	pattern, pkgs, err := browserTests("../../..")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(pattern)
	for _, name := range []string{"TestRoleHomesOnAPhone", "TestAccessibilityAxe", "TestCaregiverTakesAnExamOnAPhoneThroughANetworkCut"} {
		if !re.MatchString(name) {
			t.Errorf("%s is a browser journey, not in %s", name, pattern)
		}
	}
	for _, name := range []string{"TestAccessMatrix", "TestRaceSuite", "TestManualLookup", "TestRoleHomesOnAPhoneX"} {
		if re.MatchString(name) {
			t.Errorf("%s matched %s", name, pattern)
		}
	}
	if !slices.Contains(pkgs, "./server") || slices.Contains(pkgs, "./accounts") {
		t.Errorf("packages %v", pkgs)
	}
}
