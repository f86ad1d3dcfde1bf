package agent

import (
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/redisd"
	"zos-build/agent/internal/redisd/redistest"
	"zos-build/agent/internal/resp"
)

func init() { clog.SetOutput(io.Discard) }

func setup(t *testing.T) (*Server, *resp.Pool) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := reaper.New()
	sup, _ := redistest.Start(t, redisd.Config{Port: port, Bind: "127.0.0.1", Password: "pw", RunDir: t.TempDir()}, r)
	pool := resp.NewPool(sup.DialOptions(), 4)
	s := New("test", pool, r, jobs.DefaultConfig)
	go s.Serve()
	t.Cleanup(func() { s.Stop(2 * time.Second) })
	return s, pool
}

func call(t *testing.T, pool *resp.Pool, raw string, id string) protocol.Result {
	t.Helper()
	if _, err := pool.Do(time.Second, "RPUSH", protocol.QueueKey, raw); err != nil {
		t.Fatal(err)
	}
	v, err := pool.Do(15*time.Second, "BLPOP", protocol.ResultPrefix+id, "10")
	if err != nil || v.Nil {
		t.Fatalf("no result for %s: %v", id, err)
	}
	var r protocol.Result
	if err := json.Unmarshal([]byte(v.Array[1].Str), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestServerRoundTrip(t *testing.T) {
	_, pool := setup(t)
	r := call(t, pool, `{"id":"p1","command":"core.ping"}`, "p1")
	if r.State != "SUCCESS" || r.Data != `"PONG test"` {
		t.Fatalf("%+v", r)
	}
	// The flag exists and expires with the result (0-core's Flag/UnFlag).
	for _, k := range []string{"result:p1:flag"} { // the result itself was popped by call
		ttl, err := pool.Do(time.Second, "TTL", k)
		if err != nil || ttl.Int <= 0 || ttl.Int > 300 {
			t.Fatalf("TTL %s = %+v %v", k, ttl, err)
		}
	}
	for i := 0; i < 200; i++ {
		pool.Do(time.Second, "RPUSH", protocol.QueueKey, "{bad json "+strconv.Itoa(i))
	}
	r = call(t, pool, `{"id":"s1","command":"core.system","arguments":{"name":"echo","args":["hi"]},"stream":true}`, "s1")
	if r.State != "SUCCESS" || r.Streams[0] != "hi\n" {
		t.Fatalf("%+v", r)
	}
	v, err := pool.Do(time.Second, "LRANGE", "stream:s1", "0", "-1")
	if err != nil || len(v.Array) != 2 {
		t.Fatalf("%+v %v", v, err)
	}
	if m := decodeRecord(t, v.Array[0].Str); m.Command != "s1" || m.Message.Message != "hi" || m.Message.Meta != 1<<16 {
		t.Fatalf("%+v", m)
	}
	if m := decodeRecord(t, v.Array[1].Str); m.Message.Meta != 1<<16|2 {
		t.Fatalf("end of stream %+v", m)
	}
	r = call(t, pool, `{"id":"s3","command":"core.system","arguments":{"name":"false"},"stream":true}`, "s3")
	v, _ = pool.Do(time.Second, "LRANGE", "stream:s3", "0", "-1")
	if r.Code != 1001 || len(v.Array) != 1 || decodeRecord(t, v.Array[0].Str).Message.Meta != 2<<16|4 {
		t.Fatalf("%+v %+v", r, v)
	}
	r = call(t, pool, `{"id":"s2","command":"core.system","arguments":{"name":5}}`, "s2")
	if r.State != "ERROR" || r.Code != 400 || !strings.Contains(r.Data, "name must be a string") {
		t.Fatalf("%+v", r)
	}
	r = call(t, pool, `{"id":"i1","command":"info.version"}`, "i1")
	if r.State != "SUCCESS" || !strings.Contains(r.Data, "core.system") {
		t.Fatalf("%+v", r)
	}
}

func TestStreamKeepsOrderUnderLoad(t *testing.T) {
	_, pool := setup(t)
	start := time.Now()
	r := call(t, pool, `{"id":"many","command":"core.system","arguments":{"name":"seq","args":["1","5000"]},"stream":true}`, "many")
	if r.State != "SUCCESS" {
		t.Fatalf("%+v", r)
	}
	// Trimmed to the last StreamMaxLen entries, in order, end marker last.
	v, err := pool.Do(5*time.Second, "LRANGE", "stream:many", "0", "-1")
	if err != nil || len(v.Array) != StreamMaxLen {
		t.Fatalf("%d entries, %v", len(v.Array), err)
	}
	for i, e := range v.Array[:StreamMaxLen-1] {
		if got := decodeRecord(t, e.Str).Message.Message; got != strconv.Itoa(5000-StreamMaxLen+2+i) {
			t.Fatalf("entry %d is %q", i, got)
		}
	}
	if m := decodeRecord(t, v.Array[StreamMaxLen-1].Str); m.Message.Meta&6 == 0 {
		t.Fatalf("last entry %+v", m)
	}
	t.Logf("5000 streamed lines in %s", time.Since(start))
}

func decodeRecord(t *testing.T, s string) streamRecord {
	t.Helper()
	var r streamRecord
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("stream entry %q: %v", s, err)
	}
	return r
}
