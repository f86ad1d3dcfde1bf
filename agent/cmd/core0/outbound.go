package main

import (
	"os"
	"path/filepath"
	"time"

	"zos-build/agent/internal/agent"
	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/outbound"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/resp"
	"zos-build/agent/internal/settings"
	"zos-build/agent/internal/sysinit"
)

// runOutbound serves commands from a management redis the node dials
// (zos.mgmt=) instead of a local redis clients dial: the node opens no
// listening socket at all. See docs/protocol.md, "Outbound mode".
func runOutbound(pid1 bool, f flags, st settings.Settings, host string, r *reaper.Reaper, network *sysinit.Network,
	sigs chan os.Signal, halt chan bool) {
	refuse := func(lines ...string) {
		clog.Banner(append(lines, "This node accepts no commands.")...)
		if !pid1 {
			os.Exit(2)
		}
		waitHalt(pid1, sigs, halt, nil, nil, network)
	}
	target, err := outbound.ParseURL(st.Outbound.URL, st.Insecure)
	if err != nil {
		refuse("OUTBOUND MODE: " + err.Error())
		return
	}
	var pin []byte
	if st.Outbound.Pin != "" {
		if pin, err = outbound.ParsePin(st.Outbound.Pin); err != nil {
			refuse("OUTBOUND MODE: " + err.Error())
			return
		}
	} else if target.TLS && !st.Insecure {
		refuse("OUTBOUND MODE WITHOUT zos.mgmt-pin: core0 refuses to dial "+target.URL+".",
			"Without a pin anyone on the path could pose as the management redis and run the node.",
			"Add zos.mgmt-pin=sha256:<hex> (openssl x509 -in CERT -noout -fingerprint -sha256),",
			"or zos.insecure on a development node to accept any certificate.")
		return
	}
	if st.OperatorKeys != "" {
		clog.Warnf("outbound mode: operator keys (%s) are not used: nothing listens for tokens; "+
			"the management redis' ACLs decide who drives this node", st.Sources["operator_keys"])
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	if !settings.ValidHostname(host) {
		refuse("OUTBOUND MODE: the node id " + host + " (its host name) is not a valid host name.")
		return
	}
	id, err := outbound.NewIdentity(host)
	if err != nil {
		refuse("OUTBOUND MODE: cannot generate the node's identity: " + err.Error())
		return
	}
	seen := func(fp string) {
		clog.Warnf("outbound: accepting management certificate %s WITHOUT A PIN (insecure mode)", fp)
	}
	if pin == nil {
		clog.Banner("INSECURE OUTBOUND MODE: any server at "+target.URL+" can run commands on this node.",
			"Never use zos.insecure outside development; pin the server with zos.mgmt-pin=sha256:...")
	}
	// The one line an operator copies to admit the node (public: the secret stays in memory).
	clog.Infof("outbound identity node=%s sha256=%s", id.Node, id.Hash())
	pinArg := ""
	if pin != nil {
		pinArg = " --pin " + st.Outbound.Pin
	}
	clog.Infof("outbound: admit with: zos-build agent admit --mgmt %s%s --node %s --sha256 %s",
		target.URL, pinArg, id.Node, id.Hash())
	clog.Infof("outbound: no listening port; dialing %s as %s, keys %s*", target.URL, id.User(), id.Prefix())

	pool := resp.NewPool(outbound.DialOptions(target, id, outbound.TLSConfig(pin, seen)), 4)
	srv := agent.New(version, pool, r, jobs.DefaultConfig)
	srv.KeyPrefix = id.Prefix()
	srv.DialHint = func(err error) string { return outbound.Hint(err, target, id) }
	srv.MaxBackoff = 10 * time.Second
	srv.Shutdown = func(poweroff bool) { halt <- poweroff }
	srv.ContainerDir = filepath.Join(f.runDir, "containers")
	srv.State = func() map[string]interface{} {
		return map[string]interface{}{"mode": "outbound", "mgmt": target.URL, "node": id.Node, "pid1": pid1}
	}
	clog.Go("command loop", func() {
		clog.Forever("command loop", time.Second, srv.Serve)
	})
	waitHalt(pid1, sigs, halt, srv, nil, network)
}
