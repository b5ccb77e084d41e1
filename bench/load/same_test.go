package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFirstDiff(t *testing.T) {
	cases := []struct {
		name, a, b, want string
	}{
		{"equal, member order aside", `{"a":1,"b":[{"c":"x"}]}`, `{"b":[{"c":"x"}],"a":1}`, ""},
		{"addresses ignored", `{"link":[{"url":"http://a"}],"entry":[{"fullUrl":"http://a/1","resource":{"id":"1"}}]}`, `{"link":[],"entry":[{"fullUrl":"http://b/1","resource":{"id":"1"}}]}`, ""},
		{"member only in one", `{"entry":[{"resource":{"performer":[{"reference":"Practitioner/1"}]}}]}`, `{"entry":[{"resource":{}}]}`, "/entry[0]/resource/performer: present in only one"},
		{"value differs", `{"meta":{"versionId":"1"}}`, `{"meta":{"versionId":"2"}}`, `/meta/versionId: "1" vs "2"`},
		{"row hashes are alike", `{"meta":{"versionId":"h9b079441081b14ee"}}`, `{"meta":{"versionId":"h699c70079a22cba0"}}`, ""},
		{"row hash vs stamp", `{"meta":{"versionId":"h9b079441081b14ee"}}`, `{"meta":{"versionId":"1683906023987"}}`, "/meta/versionId"},
		{"number vs string", `{"value":4.8}`, `{"value":"4.8"}`, `/value: 4.8 vs "4.8"`},
		{"array length", `{"given":["a","b"]}`, `{"given":["a"]}`, "/given: 2 items vs 1 items"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a, b any
			if err := json.Unmarshal([]byte(c.a), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(c.b), &b); err != nil {
				t.Fatal(err)
			}
			got := firstDiff(withoutAddresses(a), withoutAddresses(b), "")
			if c.want == "" && got != "" || c.want != "" && !strings.HasPrefix(got, c.want) {
				t.Fatalf("firstDiff = %q, want prefix %q", got, c.want)
			}
		})
	}
}
