#!/usr/bin/env perl
# filter_scp.pl [--exclude] [-f <field>] <id-list> [<in.scp>] > <out.scp>
# Prints the lines of <in.scp> (or stdin) whose <field>-th field (default 1; -f -1 is
# the last field) is (--exclude: is not) the first field of some line of <id-list>.
# Lines keep their input order.
use strict;
use warnings;

sub usage {
  print STDERR "Usage: filter_scp.pl [--exclude] [-f <field>] <id-list> [<in.scp>] > <out.scp>\n" .
    "e.g.: filter_scp.pl data/dev/utt2spk data/all/text > data/dev/text\n";
  exit $_[0];
}

my ($exclude, $field) = (0, 1);
while (@ARGV && $ARGV[0] =~ /^-/) {
  my $opt = shift @ARGV;
  if ($opt eq '--exclude') { $exclude = 1; }
  elsif ($opt eq '-f') {
    $field = shift @ARGV // usage(1);
    usage(1) unless $field =~ /^-?[1-9]\d*$/;
  } elsif ($opt =~ /^-f(-?[1-9]\d*)$/) { $field = $1; }
  elsif ($opt eq '-h' || $opt eq '--help') { usage(0); }
  else { print STDERR "filter_scp.pl: unknown option $opt\n"; usage(1); }
}
usage(1) unless @ARGV == 1 || @ARGV == 2;
my $idlist = shift @ARGV;
open(my $fh, "<", $idlist) or do { print STDERR "filter_scp.pl: cannot read $idlist: $!\n"; exit 1 };
my %ids;
while (my $line = <$fh>) {
  $ids{$1} = 1 if $line =~ /^\s*(\S+)/;
}
close $fh;
my $name = @ARGV ? $ARGV[0] : '<stdin>';
while (my $line = <>) {
  my @f = split ' ', $line;
  next unless @f;
  my $idx = $field > 0 ? $field - 1 : @f + $field;
  if ($idx < 0 || $idx >= @f) {
    print STDERR "filter_scp.pl: $name:$.: has no field $field: $line";
    exit 1;
  }
  print $line if ($ids{$f[$idx]} ? 1 : 0) != $exclude;
}
