package FailWrite;
# Simulates a full disk for the Perl data-dir tools: load it with
#   PERL5LIB=<this dir> PERL5OPT=-MFailWrite FAIL_WRITE_MATCH='<regex>' <tool> ...
# and closing a file whose path matches <regex> fails with ENOSPC, as when the buffered data
# of a write cannot reach a full disk (the file stays, half written, as it would).
use strict;
use warnings;
use Errno qw(ENOSPC);

BEGIN {
  *CORE::GLOBAL::close = sub (;*) {
    my $fh = @_ ? $_[0] : select;
    my $fd = defined $fh ? fileno($fh) : undef;
    my $path = defined $fd ? readlink("/proc/self/fd/$fd") : undef;
    my $ok = CORE::close($fh);
    my $re = $ENV{FAIL_WRITE_MATCH};
    if ($ok && defined $path && defined $re && $path =~ /$re/) {
      $! = ENOSPC;
      return 0;
    }
    return $ok;
  };
}

1;
