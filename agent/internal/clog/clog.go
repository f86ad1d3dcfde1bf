// Package clog writes the agent's log lines to the console.
//
// core0 runs as PID 1 on a machine without syslog or a journal, so the
// console is the only place an operator can see what happened. Every line
// carries a fixed prefix and the time since the agent started, because the
// wall clock is often wrong before the network is up.
package clog

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

var (
	mu      sync.Mutex
	out     io.Writer = os.Stdout
	debugOn atomic.Bool
	started = time.Now()
)

// SetOutput redirects logging; tests use it to keep their output quiet.
func SetOutput(w io.Writer) {
	mu.Lock()
	out = w
	mu.Unlock()
}

// SetDebug turns debug lines on or off at run time.
func SetDebug(on bool) { debugOn.Store(on) }

// DebugEnabled reports whether debug lines are printed.
func DebugEnabled() bool { return debugOn.Load() }

func write(level, format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	el := time.Since(started).Seconds()
	mu.Lock()
	fmt.Fprintf(out, "core0[%9.3f] %-5s %s\n", el, level, msg)
	mu.Unlock()
}

func Infof(format string, args ...interface{})  { write("INFO", format, args...) }
func Warnf(format string, args ...interface{})  { write("WARN", format, args...) }
func Errorf(format string, args ...interface{}) { write("ERROR", format, args...) }

func Debugf(format string, args ...interface{}) {
	if debugOn.Load() {
		write("DEBUG", format, args...)
	}
}

// Banner prints a block of lines that must stand out on a busy console,
// for conditions an operator has to notice (insecure mode, refusing to serve).
func Banner(lines ...string) {
	mu.Lock()
	defer mu.Unlock()
	bar := "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	fmt.Fprintln(out, bar)
	for _, l := range lines {
		fmt.Fprintf(out, "!!! %s\n", l)
	}
	fmt.Fprintln(out, bar)
}

// LogPanic reports a recovered panic with its stack. It exists so every
// recover site prints the same, complete information.
func LogPanic(where string, r interface{}) {
	Errorf("panic in %s: %v\n%s", where, r, debug.Stack())
}

// Go runs fn in a goroutine that cannot take the process down: as PID 1 an
// unrecovered panic in any goroutine would make the kernel panic.
func Go(name string, fn func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				LogPanic(name, r)
			}
		}()
		fn()
	}()
}

// Forever runs fn again after a short pause whenever it panics, until it
// returns normally. Long-lived loops use it so a bug costs one iteration,
// not the node.
func Forever(name string, pause time.Duration, fn func()) {
	for {
		if !runRecovered(name, fn) {
			return
		}
		time.Sleep(pause)
		Warnf("restarting %s after panic", name)
	}
}

func runRecovered(name string, fn func()) (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			LogPanic(name, r)
			panicked = true
		}
	}()
	fn()
	return false
}
