//go:build race

package integration

// raceEnabled: this test binary is built with -race (CI's `go test
// -race`); the console browser test then builds the facade with -race
// too, which reuses the packages the test run already compiled instead
// of compiling every package a second time.
const raceEnabled = true
