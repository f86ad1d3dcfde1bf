// Package container runs containers: a root filesystem from a sha256-pinned
// tar archive, extracted once per image and used read-only as the lower
// layer of an overlay whose upper layer lives on a tmpfs of its own; an init
// process (core0 re-executed) as PID 1 of new PID, mount, UTS, IPC and
// network namespaces, which starts the container's processes on request;
// and a veth pair whose host end is on a bridge.
//
// The agent and a container's init talk over a SOCK_SEQPACKET socket pair:
// one JSON message per packet, with the stdio descriptors of a process to
// start attached as SCM_RIGHTS.
package container

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
)

// InitEnv marks a core0 started as a container's init.
const InitEnv = "CORE0_CONTAINER_INIT"

// Setup is what the agent tells a new init (first message).
type Setup struct {
	Root     string     `json:"root"`      // overlay mount point, becomes /
	Hostname string     `json:"hostname"`  // UTS name
	IPTool   string     `json:"ip_tool"`   // host's ip binary, run before pivot_root
	NetSteps [][]string `json:"net_steps"` // ip argument lists configuring the namespace
}

// Request is a message from the agent to an init.
type Request struct {
	Op   string   `json:"op"` // "exec" or "signal"
	Seq  uint64   `json:"seq"`
	Name string   `json:"name,omitempty"`
	Args []string `json:"args,omitempty"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"`
	Pid  int      `json:"pid,omitempty"`
	Sig  int      `json:"sig,omitempty"`
}

// Reply is a message from an init to the agent.
type Reply struct {
	Seq   uint64 `json:"seq"`
	Pid   int    `json:"pid,omitempty"`   // the process started (pid inside the container)
	Exit  *int   `json:"exit,omitempty"`  // it ended with this code
	Error string `json:"error,omitempty"` // it could not start
	Ready bool   `json:"ready,omitempty"` // init finished its setup
}

const maxPacket = 1 << 20

func send(fd int, v interface{}, files ...int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if len(files) > 0 {
		oob = syscall.UnixRights(files...)
	}
	return syscall.Sendmsg(fd, b, oob, nil, 0)
}

// recv reads one message and the descriptors attached to it.
func recv(fd int, v interface{}) ([]int, error) {
	buf := make([]byte, maxPacket)
	oob := make([]byte, syscall.CmsgSpace(3*4))
	n, oobn, _, _, err := syscall.Recvmsg(fd, buf, oob, 0)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("peer closed")
	}
	var fds []int
	if oobn > 0 {
		msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for _, m := range msgs {
				if rights, err := syscall.ParseUnixRights(&m); err == nil {
					fds = append(fds, rights...)
				}
			}
		}
	}
	if err := json.Unmarshal(buf[:n], v); err != nil {
		for _, f := range fds {
			syscall.Close(f)
		}
		return nil, err
	}
	return fds, nil
}

func socketPair() (*os.File, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "container-agent"), os.NewFile(uintptr(fds[1]), "container-init"), nil
}
