package console

// SessionCookie is sessionCookie, for the tests of package console_test.
const SessionCookie = sessionCookie
