// Package cputime reads the CPU time the process has used. The benchmarks
// report it per operation next to wall time, because the shared machines
// they run on are often oversubscribed: CPU time is what an operation
// costs, wall time also counts the wait for a core.
package cputime
