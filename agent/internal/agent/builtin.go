package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
)

// ArgError is a bad argument: the result is ERROR/400 with its message.
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return e.Msg }

// badArg builds an ArgError.
func badArg(format string, a ...interface{}) error { return &ArgError{Msg: fmt.Sprintf(format, a...)} }

// outcome turns a builtin's return into an outcome: payload on success;
// 400 for argument errors, 404 for missing files, 500 otherwise.
func outcome(v interface{}, err error) jobs.Outcome {
	if err == nil {
		return jobs.OK(v)
	}
	var ae *ArgError
	switch {
	case errors.As(err, &ae):
		return jobs.Fail(protocol.CodeBadRequest, err)
	case errors.Is(err, os.ErrNotExist):
		return jobs.Fail(protocol.CodeNotFound, err)
	case errors.Is(err, errToolMissing):
		return jobs.Fail(protocol.CodeUnavailable, err)
	}
	return jobs.Fail(protocol.CodeInternal, err)
}

// builtin registers a command whose arguments decode into a fresh A
// (unknown argument names are an error) and whose result is fn's.
func builtin[A any](s *Server, name string, fn func(ctx context.Context, j *jobs.Job, a *A) (interface{}, error)) {
	s.Jobs.Handle(name, func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		a := new(A)
		if err := protocol.DecodeArgs(j.Cmd, a); err != nil {
			return badArgs(err)
		}
		return outcome(fn(ctx, j, a))
	})
}

// noArgs is the argument type of commands without arguments.
type noArgs struct{}

func jsonString(b []byte, dst *string) error { return json.Unmarshal(b, dst) }
