// Command core0 is the node's PID 1: it sets the machine up, runs
// redis-server as its command bus and executes the commands clients push
// there. See agent/README.md and docs/protocol.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"zos-build/agent/internal/agent"
	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/container"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/layers"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/redisd"
	"zos-build/agent/internal/resp"
	"zos-build/agent/internal/settings"
	"zos-build/agent/internal/sysinit"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type flags struct {
	redisServer, redisBind, runDir, config, cmdline string
	redisPort                                       int
	showVersion                                     bool
}

func parseFlags(pid1 bool) flags {
	var f flags
	bind := "127.0.0.1"
	if pid1 {
		bind = "0.0.0.0"
	}
	fs := flag.NewFlagSet("core0", flag.ContinueOnError)
	fs.StringVar(&f.redisServer, "redis-server", "/usr/bin/redis-server", "redis-server binary")
	// The management port is core0's own (package gate); redis listens only on its unix socket.
	fs.IntVar(&f.redisPort, "redis-port", 6379, "management port (TLS, token AUTH, then spliced to redis)")
	fs.StringVar(&f.redisBind, "redis-bind", bind, "addresses the management port binds (space or comma separated)")
	fs.StringVar(&f.runDir, "run-dir", "/run/core0", "runtime directory (redis config and socket)")
	fs.StringVar(&f.config, "config", settings.ConfigPath, "agent config file (key=value)")
	fs.StringVar(&f.cmdline, "cmdline", settings.CmdlinePath, "file holding the kernel command line")
	fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	// The kernel passes unknown command-line words to init as arguments;
	// as PID 1, never let a stray argument stop the boot.
	if err := fs.Parse(os.Args[1:]); err != nil {
		if !pid1 {
			os.Exit(2)
		}
		clog.Warnf("ignoring bad arguments %q: %v", os.Args[1:], err)
	}
	f.redisBind = strings.Join(strings.FieldsFunc(f.redisBind, func(r rune) bool { return r == ',' || r == ' ' }), " ")
	return f
}

func main() {
	if os.Getenv(container.InitEnv) != "" {
		container.RunInit() // a container's PID 1; never returns
	}
	pid1 := os.Getpid() == 1
	f := parseFlags(pid1)
	if f.showVersion {
		fmt.Println(version)
		return
	}
	if pid1 {
		// The kernel starts init with almost no environment.
		if os.Getenv("PATH") == "" {
			os.Setenv("PATH", jobs.DefaultPath)
		}
		if os.Getenv("HOME") == "" {
			os.Setenv("HOME", "/")
		}
		// A panic anywhere must never end PID 1 (the kernel would panic):
		// catch it, log it and idle forever, still reaping.
		defer func() {
			if r := recover(); r != nil {
				clog.LogPanic("main", r)
				for {
					time.Sleep(time.Hour)
				}
			}
		}()
	}
	run(pid1, f)
}

func run(pid1 bool, f flags) {
	clog.Infof("core0 %s (%s) starting, pid %d", version, runtime.Version(), os.Getpid())
	if pid1 {
		sysinit.MountAll()
		// Ctrl-Alt-Del sends SIGINT to init instead of rebooting at once.
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_CAD_OFF)
	} else {
		clog.Infof("not PID 1: skipping machine setup")
	}

	st, warns := settings.Load(f.cmdline, f.config, false)
	clog.SetDebug(st.Debug)
	for _, w := range warns {
		clog.Warnf("settings: %s", w)
	}
	clog.Infof("settings: runmode=%s farmer_id=%q debug=%v insecure=%v hostname=%q",
		st.RunMode, st.FarmerID, st.Debug, st.Insecure, st.Hostname)

	r := reaper.New()

	var network *sysinit.Network
	host := st.Hostname
	if pid1 {
		// Before anything looks at the NICs (the default hostname is the first one's MAC).
		if n, err := sysinit.Coldplug(r); err != nil {
			clog.Errorf("coldplug: %v (%d modules loaded)", err, n)
		} else {
			clog.Infof("coldplug: %d modules loaded", n)
		}
		if host == "" {
			host = sysinit.DefaultHostname(sysinit.NICs())
		}
		if err := sysinit.SetHostname(host); err != nil {
			clog.Errorf("set hostname %s: %v", host, err)
		} else {
			clog.Infof("hostname %s", host)
		}
		network = &sysinit.Network{Reaper: r, ScriptPath: "/run/udhcpc.script", Hostname: host}
	}
	// bringUp starts DHCP, then mounts the image's layers in the background (nothing DHCP, redis
	// or the management port runs is in a layer; a command's programs are looked up once they are
	// mounted, see jobs.LookPath). Called once redis is starting: redis' own start-up is the
	// longest wait before the node answers, and this work overlaps it. Each path below calls it
	// once, before it waits.
	bringUp := func() {
		if !pid1 {
			return
		}
		if err := network.Start(); err != nil {
			clog.Errorf("network: %v", err)
		}
		layers.MountInBackground()
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	halt := make(chan bool, 1) // true = power off

	if st.Outbound.URL != "" {
		// Outbound mode: no local redis, no listening port (outbound.go).
		bringUp()
		runOutbound(pid1, f, st, host, r, network, sigs, halt)
		return
	}

	if host == "" {
		host, _ = os.Hostname()
	}
	mgmt := planMgmt(st, host, f.redisPort, f.config)
	if mgmt.refuse {
		if !pid1 {
			os.Exit(2)
		}
		bringUp()
		waitHalt(pid1, sigs, halt, nil, nil, network)
		return
	}

	absRun, _ := filepath.Abs(f.runDir)
	sup := redisd.New(redisd.Config{
		Binary: f.redisServer, RunDir: absRun, Debug: st.Debug, MaxMemory: "256mb",
	}, r)
	if err := sup.Prepare(); err != nil {
		clog.Errorf("redis: %v", err)
		if !pid1 {
			os.Exit(1)
		}
		bringUp()
		waitHalt(pid1, sigs, halt, nil, nil, network)
		return
	}
	clog.Go("redis supervisor", sup.Run)
	bringUp()
	for {
		err := sup.WaitReady(30 * time.Second)
		if err == nil {
			break
		}
		clog.Errorf("%v; still waiting", err)
		select {
		case sig := <-sigs:
			shutdown(pid1, sig != syscall.SIGINT, nil, sup, network)
			return
		default:
		}
	}
	front, err := startMgmt(mgmt, f.redisBind, f.redisPort, sup.DialOptions().Addr)
	if err != nil {
		clog.Errorf("management port: %v", err)
		if !pid1 {
			os.Exit(1)
		}
		waitHalt(pid1, sigs, halt, nil, sup, network)
		return
	}
	defer front.Close()
	clog.Infof("redis is ready; serving commands on port %d", f.redisPort)

	pool := resp.NewPool(sup.DialOptions(), 16)
	srv := agent.New(version, pool, r, jobs.DefaultConfig)
	srv.Shutdown = func(poweroff bool) { halt <- poweroff }
	srv.ContainerDir = filepath.Join(f.runDir, "containers")
	handleCoreTLS(srv, mgmt)
	srv.State = func() map[string]interface{} {
		return map[string]interface{}{"redis_pid": sup.Pid(), "redis_restarts": sup.Restarts(), "pid1": pid1}
	}
	clog.Go("command loop", func() {
		clog.Forever("command loop", time.Second, srv.Serve)
	})
	waitHalt(pid1, sigs, halt, srv, sup, network)
}

// waitHalt blocks until a signal or a reboot/poweroff command, then shuts
// down. SIGTERM powers off, SIGINT (Ctrl-Alt-Del) reboots.
func waitHalt(pid1 bool, sigs chan os.Signal, halt chan bool, srv *agent.Server, sup *redisd.Supervisor, n *sysinit.Network) {
	var poweroff bool
	select {
	case sig := <-sigs:
		clog.Infof("received %s", sig)
		poweroff = sig != syscall.SIGINT
	case poweroff = <-halt:
	}
	shutdown(pid1, poweroff, srv, sup, n)
}

func shutdown(pid1, poweroff bool, srv *agent.Server, sup *redisd.Supervisor, n *sysinit.Network) {
	what := "reboot"
	if poweroff {
		what = "power off"
	}
	clog.Infof("shutting down (%s)", what)
	if srv != nil {
		srv.Stop(2 * time.Second)
		srv.Jobs.Shutdown(10 * time.Second)
	}
	if n != nil {
		n.Stop()
	}
	if sup != nil {
		sup.Stop(5 * time.Second)
	}
	if !pid1 {
		clog.Infof("not PID 1: exiting instead of %s", what)
		os.Exit(0)
	}
	sysinit.KillAll(syscall.SIGTERM)
	time.Sleep(2 * time.Second)
	sysinit.KillAll(syscall.SIGKILL)
	syscall.Sync()
	clog.Infof("%s now", what)
	if err := sysinit.Halt(poweroff); err != nil {
		clog.Errorf("reboot syscall: %v", err)
	}
	for {
		time.Sleep(time.Hour)
	}
}
