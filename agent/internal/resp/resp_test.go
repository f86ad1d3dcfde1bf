package resp

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadValue(t *testing.T) {
	in := "+OK\r\n-ERR bad thing\r\n:42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	want := []Value{
		{Kind: '+', Str: "OK"}, {Kind: '-', Str: "ERR bad thing"}, {Kind: ':', Int: 42},
		{Kind: '$', Str: "he\r\nl"}, {Kind: '$', Nil: true},
	}
	for _, w := range want {
		v, err := ReadValue(r)
		if err != nil || v.Kind != w.Kind || v.Str != w.Str || v.Int != w.Int || v.Nil != w.Nil {
			t.Fatalf("got %+v %v want %+v", v, err, w)
		}
	}
	v, err := ReadValue(r)
	if err != nil || len(v.Array) != 2 || v.Array[0].Str != "a" || v.Array[1].Int != 1 {
		t.Fatalf("%+v %v", v, err)
	}
	if v, err := ReadValue(r); err != nil || !v.Nil {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestReadValueRejectsGarbage(t *testing.T) {
	for _, in := range []string{"?x\r\n", "$abc\r\n", "$3\r\nabcd\r\n", ":x\r\n", "+OK\n", "*99999999\r\n", fmt.Sprintf("$%d\r\n", MaxBulk+1)} {
		if _, err := ReadValue(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestEncodeCommand(t *testing.T) {
	if got := string(EncodeCommand("SET", "k", "")); got != "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n" {
		t.Fatalf("%q", got)
	}
}

// startRedis runs a throwaway redis-server with a password on a free port.
func startRedis(t *testing.T, password string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nrequirepass %s\nsave \"\"\nappendonly no\ndir %s\n", port, password, dir)), 0o600)
	cmd := exec.Command(bin, conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

func TestAgainstRedis(t *testing.T) {
	addr := startRedis(t, "pw")
	if _, err := Dial(Options{Network: "tcp", Addr: addr, Password: "wrong"}); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
	noauth, err := Dial(Options{Network: "tcp", Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = noauth.Do(time.Second, "PING")
	if e, ok := err.(Error); !ok || e.Prefix() != "NOAUTH" || noauth.Broken() {
		t.Fatalf("%v", err)
	}
	noauth.Close()

	p := NewPool(Options{Network: "tcp", Addr: addr, Password: "pw"}, 2)
	if v, err := p.Do(time.Second, "PING"); err != nil || v.Str != "PONG" {
		t.Fatal(v, err)
	}
	bin := "bin\x00ary\r\n\xff"
	if _, err := p.Do(time.Second, "RPUSH", "l", bin, "two"); err != nil {
		t.Fatal(err)
	}
	v, err := p.Do(time.Second, "LRANGE", "l", "0", "-1")
	if err != nil || len(v.Array) != 2 || v.Array[0].Str != bin {
		t.Fatalf("%+v %v", v, err)
	}
	vs, err := p.Pipeline(time.Second, [][]string{{"INCR", "n"}, {"LPUSH", "n", "x"}, {"INCR", "n"}})
	if err != nil || vs[0].Int != 1 || vs[1].Kind != '-' || vs[2].Int != 2 {
		t.Fatalf("%+v %v", vs, err)
	}
	// BLPOP times out with a nil array.
	c, err := Dial(p.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err = c.Do(3*time.Second, "BLPOP", "empty", "1")
	if err != nil || !v.Nil {
		t.Fatalf("%+v %v", v, err)
	}
	// A client-side deadline shorter than the block breaks the connection.
	if _, err := c.Do(200*time.Millisecond, "BLPOP", "empty", "2"); err == nil || !c.Broken() {
		t.Fatalf("deadline not enforced: %v", err)
	}
	p.CloseIdle()
}
