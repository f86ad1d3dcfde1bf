// Package redistest runs a real redis-server under redisd's supervisor, for tests of the packages that
// talk to it. A test is skipped on a host without redis-server.
package redistest

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/redisd"
)

// Start runs redis with cfg (Binary and RunDir filled in when empty), stopped when the test ends; it
// returns the supervisor and the config it runs with.
func Start(t *testing.T, cfg redisd.Config, r *reaper.Reaper) (*redisd.Supervisor, redisd.Config) {
	t.Helper()
	if cfg.Binary == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			t.Skip("redis-server not installed")
		}
		cfg.Binary = bin
	}
	if cfg.RunDir == "" {
		// Not t.TempDir(): a unix socket path must stay under 108 bytes.
		dir, err := os.MkdirTemp("", "redistest")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		cfg.RunDir = dir
	}
	sup := redisd.New(cfg, r)
	if err := sup.Prepare(); err != nil {
		t.Fatal(err)
	}
	go sup.Run()
	t.Cleanup(func() { sup.Stop(5 * time.Second) })
	if err := sup.WaitReady(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return sup, cfg
}
