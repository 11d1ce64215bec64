//go:build !race

package handlers

// exportTestRows is how many reports the streaming export test writes.
const exportTestRows = 100_000
