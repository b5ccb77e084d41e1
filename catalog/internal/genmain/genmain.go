// Package genmain is the command line the catalog's table generators
// share: read one input file, generate, write one output file.
package genmain

import (
	"fmt"
	"os"
)

// Run reads os.Args[1], passes it to generate and writes the result to
// os.Args[2]; usage names the expected arguments. It exits on any error.
func Run(usage string, generate func([]byte) ([]byte, error)) {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: "+usage)
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err == nil {
		raw, err = generate(raw)
	}
	if err == nil {
		err = os.WriteFile(os.Args[2], raw, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
