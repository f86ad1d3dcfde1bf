package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"zos-build/agent/internal/agent"
	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/gate"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/settings"
)

// mgmtPlan is how the management port serves clients, decided from the
// settings before redis starts: who may get in, and whether over TLS.
type mgmtPlan struct {
	verifier *gate.Verifier // nil: no authentication (insecure development node)
	refuse   bool           // no operator key and not insecure: serve nobody
	// identity is made while redis starts (key generation is slow on an
	// emulated CPU): it arrives on pending, and is set by startMgmt.
	pending  chan identityResult // nil: plain RESP
	identity *gate.Identity
}

type identityResult struct {
	id  *gate.Identity
	err error
}

// planMgmt reads the operator keys and starts making the boot-time TLS
// identity. host is the node's name, the audience its tokens must carry.
func planMgmt(st settings.Settings, host string, port int, config string) *mgmtPlan {
	p := &mgmtPlan{}
	keys, err := gate.ParseKeys(st.OperatorKeys)
	if err != nil {
		clog.Errorf("settings: %v", err)
		keys = nil
	}
	if len(keys) > 0 {
		aud := []string{host}
		if st.FarmerID != "" {
			aud = append(aud, "farm:"+st.FarmerID)
		}
		p.verifier = &gate.Verifier{Keys: keys, Audiences: aud}
		clog.Infof("management port: %d operator key(s) (from %s); tokens must name audience %q",
			len(keys), st.Sources["operator_keys"], aud)
	} else if st.Insecure {
		clog.Banner(
			"INSECURE MODE: the management port accepts commands WITHOUT AUTHENTICATION.",
			"Anyone who can reach port "+strconv.Itoa(port)+" can run any program as root on this node.",
			"Never use zos.insecure / insecure_dev=true outside development.")
	} else {
		clog.Banner(
			"NO OPERATOR KEY CONFIGURED: core0 serves no client without one.",
			"Set zos.keys=ed25519:... on the kernel command line (or operator_keys= in "+config+"),",
			"or zos.insecure / insecure_dev=true for a development node.",
			"This node accepts no commands.")
		p.refuse = true
		return p
	}
	if st.Insecure || st.RunMode == "dev" {
		clog.Banner(
			"PLAIN RESP: the management port does not use TLS (runmode=dev or insecure mode).",
			"Tokens and every command and result cross the network in clear.")
		return p
	}
	p.pending = make(chan identityResult, 1)
	go func() {
		id, err := gate.NewIdentity(host)
		p.pending <- identityResult{id, err}
	}()
	return p
}

// startMgmt serves the management port on every bind address; the
// splice's other end is redis' unix socket.
func startMgmt(p *mgmtPlan, bind string, port int, redisSocket string) (*gate.Front, error) {
	f := &gate.Front{Verifier: p.verifier, Upstream: func() (net.Conn, error) { return net.Dial("unix", redisSocket) }}
	if p.pending != nil {
		r := <-p.pending
		if r.err != nil {
			return nil, fmt.Errorf("TLS identity: %v", r.err)
		}
		p.identity = r.id
		clog.Infof("TLS fingerprint %s", p.identity.Fingerprint)
		f.TLS = p.identity.ServerConfig()
	}
	var addrs []string
	for _, b := range strings.Fields(bind) {
		addrs = append(addrs, net.JoinHostPort(b, strconv.Itoa(port)))
	}
	if err := f.Listen(addrs); err != nil {
		return nil, err
	}
	clog.Go("management port", f.Serve)
	return f, nil
}

// handleCoreTLS registers core.tls: how this node serves its management
// port, so a client that trusted it on first use can check the pin.
func handleCoreTLS(srv *agent.Server, p *mgmtPlan) {
	srv.Jobs.Handle("core.tls", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		out := map[string]interface{}{"tls": p.identity != nil, "fingerprint": "", "authentication": p.verifier != nil}
		if p.identity != nil {
			out["fingerprint"] = p.identity.Fingerprint
		}
		if p.verifier != nil {
			out["audiences"] = p.verifier.Audiences
			keys := []string{}
			for _, k := range p.verifier.Keys {
				keys = append(keys, gate.FormatKey(k))
			}
			out["operator_keys"] = keys
		}
		return jobs.OK(out)
	})
}
