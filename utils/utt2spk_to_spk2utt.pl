#!/usr/bin/env perl
# utt2spk_to_spk2utt.pl [<utt2spk>] > spk2utt
# Inverts "<utt> <spk>" lines into "<spk> <utt1> <utt2> ..." lines. Speakers appear in
# order of first appearance and utterances in input order, so a sorted utt2spk whose
# speaker ids are prefixes of the utterance ids gives a sorted spk2utt.
use strict;
use warnings;

if (@ARGV > 1 || (@ARGV && $ARGV[0] =~ /^-./)) {
  print STDERR "Usage: utt2spk_to_spk2utt.pl [<utt2spk>] > <spk2utt>\n";
  exit(@ARGV && $ARGV[0] =~ /^(-h|--help)$/ ? 0 : 1);
}
my $name = @ARGV ? $ARGV[0] : '<stdin>';
my (%utts, @order);
while (my $line = <>) {
  my @f = split ' ', $line;
  if (@f != 2) {
    print STDERR "utt2spk_to_spk2utt.pl: $name:$.: expected '<utt> <spk>', found: $line";
    exit 1;
  }
  my ($utt, $spk) = @f;
  push @order, $spk unless exists $utts{$spk};
  push @{$utts{$spk}}, $utt;
}
print join(' ', $_, @{$utts{$_}}), "\n" for @order;
