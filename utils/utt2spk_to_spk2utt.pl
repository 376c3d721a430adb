#!/usr/bin/env perl
# utt2spk_to_spk2utt.pl [utt2spk] > spk2utt
# Speakers appear in order of first occurrence, utterances in input order.
use strict;
use warnings;
my (%utts, @order);
while (<>) {
    my @f = split;
    die "utt2spk_to_spk2utt.pl: line $.: expected '<utt> <spk>', got: $_" unless @f == 2;
    my ($u, $s) = @f;
    push @order, $s unless exists $utts{$s};
    push @{$utts{$s}}, $u;
}
print "$_ @{$utts{$_}}\n" for @order;
