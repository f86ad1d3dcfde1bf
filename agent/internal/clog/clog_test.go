package clog

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type buf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buf) Write(p []byte) (int, error) { b.mu.Lock(); defer b.mu.Unlock(); return b.b.Write(p) }
func (b *buf) String() string              { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func TestLevelsAndDebug(t *testing.T) {
	var b buf
	SetOutput(&b)
	SetDebug(false)
	Infof("hello %d", 1)
	Debugf("hidden")
	SetDebug(true)
	Debugf("shown")
	SetDebug(false)
	Banner("LOUD")
	s := b.String()
	if !strings.Contains(s, "INFO  hello 1") || strings.Contains(s, "hidden") || !strings.Contains(s, "DEBUG shown") || !strings.Contains(s, "!!! LOUD") {
		t.Fatal(s)
	}
}

func TestForeverRestartsAfterPanic(t *testing.T) {
	var b buf
	SetOutput(&b)
	n := 0
	Forever("loop", time.Millisecond, func() {
		n++
		if n < 3 {
			panic("bug")
		}
	})
	if n != 3 || strings.Count(b.String(), "panic in loop: bug") != 2 {
		t.Fatalf("n=%d\n%s", n, b.String())
	}
}

func TestGoRecovers(t *testing.T) {
	var b buf
	SetOutput(&b)
	done := make(chan struct{})
	Go("g", func() { defer close(done); panic("x") })
	<-done
	time.Sleep(10 * time.Millisecond)
	if !strings.Contains(b.String(), "panic in g: x") {
		t.Fatal(b.String())
	}
}
