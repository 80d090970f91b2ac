/**
 * Prints one machine-readable closing line, `jest: N passed, N failed, N skipped`, and makes
 * a run that executed no test fail.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    if (results.numPassedTests + failed === 0) {
      process.stdout.write('jest: no test was executed\n');
      process.exitCode = 1;
    }
    process.stdout.write(
      `jest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
