"""The test kit shipped with the package: fakes of every port and the contract suites."""
