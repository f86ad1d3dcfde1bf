package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	cmd, pe := Parse([]byte(`{"id":"x1","command":"core.system","arguments":{"name":"ls"},"queue":"q","max_time":5,"stream":true,"tags":{"a":[1]}}`))
	if pe != nil {
		t.Fatal(pe)
	}
	if cmd.ID != "x1" || cmd.Command != "core.system" || cmd.Queue != "q" || cmd.MaxTime != 5 || !cmd.Stream {
		t.Fatalf("bad parse: %+v", cmd)
	}
	if string(cmd.Tags) != `{"a":[1]}` {
		t.Fatalf("tags %s", cmd.Tags)
	}
}

func TestParseNullsAreAbsent(t *testing.T) {
	cmd, pe := Parse([]byte(`{"id":"x","command":"c","arguments":null,"queue":null,"max_time":null,"stream":null}`))
	if pe != nil {
		t.Fatal(pe)
	}
	if cmd.Arguments != nil || cmd.Queue != "" || cmd.MaxTime != 0 || cmd.Stream {
		t.Fatalf("%+v", cmd)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in, id, msg string
	}{
		{`garbage`, "", "not a JSON object"},
		{`[1,2]`, "", "not a JSON object"},
		{`null`, "", "not a JSON object"},
		{`{}`, "", "missing field id"},
		{`{"id":5,"command":"x"}`, "", "id must be a string"},
		{`{"id":"","command":"x"}`, "", "field id must be"},
		{`{"id":"a b","command":"x"}`, "", "field id must be"},
		{`{"id":"ok"}`, "ok", "missing field command"},
		{`{"id":"ok","command":7}`, "ok", "command must be"},
		{`{"id":"ok","command":""}`, "ok", "command must be"},
		{`{"id":"ok","command":"c","arguments":[1]}`, "ok", "arguments must be an object"},
		{`{"id":"ok","command":"c","arguments":"s"}`, "ok", "arguments must be an object"},
		{`{"id":"ok","command":"c","max_time":-1}`, "ok", "max_time"},
		{`{"id":"ok","command":"c","max_time":1.5}`, "ok", "max_time"},
		{`{"id":"ok","command":"c","max_time":"5"}`, "ok", "max_time"},
		{`{"id":"ok","command":"c","stream":"yes"}`, "ok", "stream must be a boolean"},
		{`{"id":"ok","command":"c","queue":1}`, "ok", "queue must be a string"},
		{`{"id":"ok","command":"c"} {}`, "", "trailing data"},
	}
	for _, c := range cases {
		_, pe := Parse([]byte(c.in))
		if pe == nil {
			t.Errorf("%s: accepted", c.in)
			continue
		}
		if pe.ID != c.id || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: got id=%q msg=%q, want id=%q msg~%q", c.in, pe.ID, pe.Msg, c.id, c.msg)
		}
	}
}

func TestParseOversized(t *testing.T) {
	big := `{"id":"big","command":"core.system","arguments":{"stdin":"` + strings.Repeat("x", MaxPayload) + `"}}`
	_, pe := Parse([]byte(big))
	if pe == nil || pe.Code != CodeTooLarge || pe.ID != "big" {
		t.Fatalf("%+v", pe)
	}
}

func TestResultDataIsJSONString(t *testing.T) {
	r := NewResult(&Command{ID: "i", Command: "core.ping"}, StateSuccess, 0, "PONG 1")
	var m map[string]interface{}
	if err := json.Unmarshal(r.Marshal(), &m); err != nil {
		t.Fatal(err)
	}
	if m["data"] != `"PONG 1"` || m["level"].(float64) != LevelResult || m["tags"] != nil {
		t.Fatalf("%v", m)
	}
	streams := m["streams"].([]interface{})
	if len(streams) != 2 {
		t.Fatalf("streams %v", streams)
	}
}

func TestDecodeArgs(t *testing.T) {
	var a struct {
		Name string   `json:"name"`
		Args []string `json:"args"`
	}
	ok := &Command{Arguments: json.RawMessage(`{"name":"ls","args":["-l"]}`)}
	if err := DecodeArgs(ok, &a); err != nil || a.Name != "ls" {
		t.Fatal(err, a)
	}
	if err := DecodeArgs(&Command{Arguments: json.RawMessage(`{"name":3}`)}, &a); err == nil || !strings.Contains(err.Error(), "name must be a string") {
		t.Fatal(err)
	}
	if err := DecodeArgs(&Command{Arguments: json.RawMessage(`{"nam":"x"}`)}, &a); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatal(err)
	}
}
