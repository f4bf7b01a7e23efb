// Package mailroute decides what an incoming mail is and acts on it: a
// customer's answer to a ticket mail (valid reply tag, the ticket's own
// sender) lands on the ticket as a reply; any other mail to the support
// address is a question, answered at once with the matching articles and a
// link to file it as a ticket; automatic traffic is dropped unanswered.
package mailroute
