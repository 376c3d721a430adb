#!/usr/bin/env perl
# spk2utt_to_utt2spk.pl [<spk2utt>] > utt2spk
# Turns "<spk> <utt1> <utt2> ..." lines into "<utt> <spk>" lines (in input order;
# sort with LC_ALL=C sort if the speaker ids are not prefixes of the utterance ids).
use strict;
use warnings;

if (@ARGV > 1 || (@ARGV && $ARGV[0] =~ /^-./)) {
  print STDERR "Usage: spk2utt_to_utt2spk.pl [<spk2utt>] > <utt2spk>\n";
  exit(@ARGV && $ARGV[0] =~ /^(-h|--help)$/ ? 0 : 1);
}
my $name = @ARGV ? $ARGV[0] : '<stdin>';
while (my $line = <>) {
  my ($spk, @utts) = split ' ', $line;
  if (!@utts) {
    print STDERR "spk2utt_to_utt2spk.pl: $name:$.: expected '<spk> <utt> ...', found: $line";
    exit 1;
  }
  print "$_ $spk\n" for @utts;
}
