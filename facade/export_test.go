package facade

// SetMaxBundleAnswer lowers the batch answer budget for a test; the
// returned func restores it.
func SetMaxBundleAnswer(n int) func() {
	old := maxBundleAnswer
	maxBundleAnswer = n
	return func() { maxBundleAnswer = old }
}
