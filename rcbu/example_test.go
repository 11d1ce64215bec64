package rcbu_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// Example is the python-rcbu interactive session in Go: connect, list the
// agents, pick one, look at its configurations, back one up, watch the
// backup until it is done, read its report, then restore that backup and
// read the restore report. Comments marked "network:" are the calls that
// go to the service; everything else is local.
//
// A simulator stands in for Rackspace here (time runs 500× faster so the
// jobs finish in well under a second). Against the real service, drop the
// simulator and WithIdentityURL and pass your own username and API key.
func Example() {
	sim := rcbusim.New(rcbusim.WithClock(rcbusim.NewScaledClock(500)), rcbusim.WithWakeDelay(0))
	web := sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Datacenter: "DFW", Online: true})
	cfgID, err := sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
		AgentID: web, Name: "nightly-www", Frequency: "Daily", Hour: 2, Minute: 30, AmPm: "AM",
		TimeZone: "Eastern Standard Time", Inclusions: []string{"/var/www"}, DataBytes: 300 << 20,
	})
	if err != nil {
		log.Fatal(err)
	}
	sim.SetNextOutcome(cfgID, rcbusim.StateCompleted)
	srv := httptest.NewServer(sim)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// network: authenticate with Identity and read the service catalog.
	client, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		rcbu.WithIdentityURL(srv.URL+"/v2.0/tokens"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tenant:", client.Tenant(), "regions:", client.Regions())

	// network: list the account's agents (their Status is a placeholder).
	agents, err := client.Agents.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// network: the agent's details carry its live status.
	agent, err := client.Agents.Get(ctx, agents[0].ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("agent:", agent.MachineName, agent.Status, "enabled:", agent.Enabled(), "encrypted:", agent.Encrypted())

	// network: the agent's backup configurations.
	cfgs, err := client.Configurations.ListForAgent(ctx, agent.ID)
	if err != nil {
		log.Fatal(err)
	}
	cfg := cfgs[0]
	schedule, err := cfg.Schedule() // local
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("configuration:", cfg.Name, "-", schedule)

	// network: start a backup of the configuration.
	backup, err := client.Backups.Start(ctx, cfg.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("backup started:", backup.Running())

	// network: poll the backup's status until it reaches a done state.
	status, err := backup.Wait(ctx, 20*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("backup:", status.State)

	// network: the report of the finished backup.
	report, err := backup.Report(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ok:", report.OK(), "took time:", report.Duration > 0, "searched bytes:", report.BytesSearched.Bytes > 0)

	// network: a restore configuration for that backup, back onto the same server.
	rc, err := client.Restores.Create(ctx, &rcbu.RestoreRequest{
		BackupID: backup.ID, BackupAgentID: agent.ID, DestinationAgentID: agent.ID,
		DestinationPath: "/srv/restore", OverwriteFiles: false,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("restore:", rc.State)

	// network: start it, wait for it, read its report.
	restore, err := client.Restores.Start(ctx, rc.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := restore.Wait(ctx, 20*time.Millisecond); err != nil {
		log.Fatal(err)
	}
	rreport, err := restore.Report(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("restored ok:", rreport.OK(), "to:", rreport.RestoreDestination)

	// Output:
	// tenant: 123456 regions: [DFW]
	// agent: web-01 Online enabled: true encrypted: false
	// configuration: nightly-www - Every day at 02:30 Eastern Standard Time
	// backup started: true
	// backup: Completed
	// ok: true took time: true searched bytes: true
	// restore: Creating
	// restored ok: true to: web-01
}
