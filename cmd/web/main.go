// Command rcbu-web is the RCBU Console: a web admin application for
// Rackspace Cloud Backup. Without Rackspace credentials it starts in demo
// mode against the built-in simulator. Configuration comes from the
// environment (see config.go); flags mirror it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // users pick IANA time zones and rcbu maps Windows ones; the distroless image may lack zoneinfo
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rcbu-web:", err)
		os.Exit(1)
	}
}
