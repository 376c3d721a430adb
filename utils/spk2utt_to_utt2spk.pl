#!/usr/bin/env perl
# spk2utt_to_utt2spk.pl [spk2utt] > utt2spk
use strict;
use warnings;
while (<>) {
    my @f = split;
    die "spk2utt_to_utt2spk.pl: line $.: expected '<spk> <utt> ...', got: $_" unless @f >= 2;
    my $s = shift @f;
    print "$_ $s\n" for @f;
}
