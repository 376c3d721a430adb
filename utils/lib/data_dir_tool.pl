#!/usr/bin/env perl
# The work behind the data-directory scripts in utils/ (they parse options and call this):
#   data_dir_tool.pl validate [--no-feats] [--no-text] [--no-wav] [--no-spk-sort] [--non-print] <dir>
#   data_dir_tool.pl fix [--utt-extra-files "a b"] [--spk-extra-files "c"] <dir>
#   data_dir_tool.pl filter [--quiet] <src> <dest> <utt-list>     (utt-list: file, '-' = stdin)
#   data_dir_tool.pl combine [--extra-files "a b"] <dest> <src>...
# Messages are prefixed with the name in $DATA_DIR_TOOL_NAME (the calling script).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin";
use File::Path qw(make_path remove_tree);
use Cwd qw(abs_path);
use DataDir qw(
  utt_table_files spk_table_files read_table read_lines write_lines copy_file filter_dir
  spk2utt_lines context_table
);

my $prog = $ENV{DATA_DIR_TOOL_NAME} || 'data_dir_tool.pl';

sub fail { print STDERR "$prog: error: $_[0]\n"; exit 1; }
sub note { print STDERR "$prog: $_[0]\n"; }

my $command = shift @ARGV // '';
my %dispatch = (validate => \&validate, fix => \&fix, filter => \&filter, combine => \&combine);
fail("unknown command '$command' (validate, fix, filter or combine)") unless $dispatch{$command};
eval { $dispatch{$command}->(@ARGV); 1 } or do {
  my $err = $@;
  chomp $err;
  fail($err);
};
exit 0;

sub split_list { my ($s) = @_; return grep { length } split ' ', ($s // ''); }

sub keys_of { my ($rows) = @_; return [map { $_->{key} } @$rows]; }

# "only in a: x y z ...; only in b: ..." for two sorted key lists.
sub key_diff {
  my ($name_a, $a, $name_b, $b) = @_;
  my %in_b = map { $_ => 1 } @$b;
  my %in_a = map { $_ => 1 } @$a;
  my @only_a = grep { !$in_b{$_} } @$a;
  my @only_b = grep { !$in_a{$_} } @$b;
  my $show = sub {
    my ($name, $list) = @_;
    return () unless @$list;
    my @shown = @$list > 5 ? (@$list[0 .. 4], '...') : @$list;
    return scalar(@$list) . " only in $name (" . join(' ', @shown) . ")";
  };
  return join('; ', $show->($name_a, \@only_a), $show->($name_b, \@only_b));
}

sub validate {
  my %flags;
  while (@_ && $_[0] =~ /^--/) {
    my $f = shift;
    fail("unknown option $f") unless $f =~ /^--(no-feats|no-text|no-wav|no-spk-sort|non-print)$/;
    $flags{$1} = 1;
  }
  fail('usage: validate [options] <data-dir>') unless @_ == 1;
  my $dir = shift;
  $dir =~ s{/+$}{};
  die "no such directory $dir\n" unless -d $dir;

  my %required = ('utt2spk' => 'utt2spk is required', 'spk2utt' => 'spk2utt is required');
  $required{'feats.scp'} = 'if this is by design, specify --no-feats' unless $flags{'no-feats'};
  $required{'text'} = 'if this is by design, specify --no-text' unless $flags{'no-text'};
  $required{'wav.scp'} = 'if this is by design, specify --no-wav' unless $flags{'no-wav'};
  for my $f (sort keys %required) {
    die "no such file $dir/$f ($required{$f})\n" unless -f "$dir/$f";
  }

  my %rows;
  my @utt_files = utt_table_files($dir);
  for my $f (@utt_files, DataDir::optional_utt_files(), 'spk2utt', spk_table_files($dir)) {
    next unless -f "$dir/$f" && !$rows{$f};
    my $is_text = $f eq 'text' || $f eq 'text.asr';
    $rows{$f} = read_table("$dir/$f", $f, strict => 1, utf8 => $is_text,
      printable => $is_text && !$flags{'non-print'});
  }
  my $utts = keys_of($rows{utt2spk});
  die "$dir/utt2spk is empty\n" unless @$utts;
  my %is_utt = map { $_ => 1 } @$utts;

  for my $f (@utt_files) {
    next if $f eq 'utt2spk';
    my $k = keys_of($rows{$f});
    next if "@$k" eq "@$utts";
    die "the utterance lists of $dir/utt2spk and $dir/$f differ: " .
      key_diff('utt2spk', $utts, $f, $k) . " (run utils/fix_data_dir.sh $dir)\n";
  }
  for my $f (DataDir::optional_utt_files()) {
    next unless $rows{$f};
    for my $r (@{$rows{$f}}) {
      die "$dir/$f:$r->{lineno}: utterance '$r->{key}' is not in $dir/utt2spk\n"
        unless $is_utt{$r->{key}};
    }
  }
  if (-f "$dir/segments") {
    # As in Kaldi, the recordings of segments and of wav.scp must be the same (--no-wav or not).
    die "$dir/segments exists but $dir/wav.scp does not (segments cut the recordings of wav.scp)\n"
      unless -f "$dir/wav.scp";
    my $wav = read_table("$dir/wav.scp", 'wav.scp', strict => 1);
    my %reco = map { $_ => 1 } @{keys_of($wav)};
    my %used;
    for my $r (@{$rows{segments}}) {
      my $rec = (split ' ', $r->{rest})[0];
      die "$dir/segments:$r->{lineno}: recording '$rec' is not in $dir/wav.scp\n"
        unless $reco{$rec};
      $used{$rec} = 1;
    }
    for my $r (@$wav) {
      die "$dir/wav.scp:$r->{lineno}: recording '$r->{key}' has no segment in $dir/segments " .
        "(run utils/fix_data_dir.sh $dir)\n" unless $used{$r->{key}};
    }
  }

  my $expected = spk2utt_lines($rows{utt2spk});
  my @actual = map { $_->{line} } @{$rows{spk2utt}};
  my @actual_norm = map { join(' ', split ' ', $_) } @actual;
  for my $i (0 .. ($#$expected > $#actual_norm ? $#$expected : $#actual_norm)) {
    my ($e, $a) = ($expected->[$i], $actual_norm[$i]);
    next if defined $e && defined $a && $e eq $a;
    my $where = "$dir/spk2utt:" . ($i + 1);
    die "$where: spk2utt is not the inverse of utt2spk: expected '" . ($e // '<end of file>') .
      "', found '" . ($a // '<end of file>') . "' (regenerate it with " .
      "utils/utt2spk_to_spk2utt.pl $dir/utt2spk > $dir/spk2utt)\n";
  }

  if (!$flags{'no-spk-sort'}) {
    my $prev;
    for my $r (@{$rows{utt2spk}}) {
      my $spk = $r->{rest};
      if (defined $prev && $spk lt $prev) {
        die "$dir/utt2spk:$r->{lineno}: utt2spk is not in sorted order when sorted first on " .
          "speaker-id: speaker '$spk' of '$r->{key}' comes after speaker '$prev' " .
          "(fix this by making speaker-ids prefixes of utt-ids, e.g. speaker = context_id)\n";
      }
      $prev = $spk;
    }
  }

  my %speakers = map { $_ => 1 } @{keys_of($rows{spk2utt})};
  for my $f (spk_table_files($dir)) {
    my $k = keys_of($rows{$f});
    my @all = sort keys %speakers;
    die "the speaker lists of $dir/spk2utt and $dir/$f differ: " .
      key_diff('spk2utt', \@all, $f, $k) . "\n" unless "@$k" eq "@all";
  }

  my %contexts;
  if (-f "$dir/contexts") {
    my %listed;
    for my $c (@{context_table("$dir/contexts", strict => 1)}) {
      my ($cid, $list, $lineno) = @$c;
      $contexts{$cid} = 1;
      for my $u (@$list) {
        die "$dir/contexts:$lineno: utterance '$u' of context '$cid' is not in $dir/utt2spk\n"
          unless $is_utt{$u};
        die "$dir/contexts:$lineno: utterance '$u' is listed twice (also in '$listed{$u}')\n"
          if $listed{$u};
        $listed{$u} = $cid;
      }
    }
  }
  if (-f "$dir/questions.jsonl") {
    my %ids;
    my $passages = passage_texts($dir);
    for my $q (@{DataDir::question_lines("$dir/questions.jsonl")}) {
      my ($line, $cid, $err, $lineno, $id, $obj) = @$q;
      my $where = "$dir/questions.jsonl:$lineno";
      die "$where: $err\n" if $err;
      die "$where: context '$cid' is not in $dir/contexts\n"
        if -f "$dir/contexts" && !$contexts{$cid};
      die "$where: duplicate question id '$id' (first on line $ids{$id})\n"
        if $ids{$id};
      $ids{$id} = $lineno;
      check_question($where, $id, $obj, $passages->{$cid});
    }
  }
  if (-f "$dir/oracle.ctm") {
    my $lines = read_lines("$dir/oracle.ctm");
    my ($prev, %done);
    for my $i (0 .. $#$lines) {
      my @f = split ' ', $lines->[$i];
      my $where = "$dir/oracle.ctm:" . ($i + 1);
      die "$where: expected '<utt> <channel> <start> <duration> <word> [<conf>]'\n" if @f < 5;
      die "$where: utterance '$f[0]' is not in $dir/utt2spk\n" unless $is_utt{$f[0]};
      if (!defined $prev || $f[0] ne $prev) {
        die "$where: the lines of utterance '$f[0]' are not together (sorted by utterance)\n"
          if $done{$f[0]} || (defined $prev && $f[0] lt $prev);
        $done{$prev} = 1 if defined $prev;
        $prev = $f[0];
      }
    }
  }
  note("Successfully validated data-directory $dir");
}

sub fix {
  my (@utt_extra, @spk_extra);
  while (@_ && $_[0] =~ /^--/) {
    my $f = shift;
    my $v = shift // fail("option $f needs a value");
    if ($f eq '--utt-extra-files') { @utt_extra = split_list($v); }
    elsif ($f eq '--spk-extra-files') { @spk_extra = split_list($v); }
    else { fail("unknown option $f"); }
  }
  fail('usage: fix [options] <data-dir>') unless @_ == 1;
  my $dir = shift;
  $dir =~ s{/+$}{};
  die "no such directory $dir\n" unless -d $dir;
  die "no such file $dir/utt2spk\n" unless -f "$dir/utt2spk";
  die "$dir/segments exists but $dir/wav.scp does not (segments cut the recordings of wav.scp; " .
    "the files in $dir were not changed)\n" if -f "$dir/segments" && !-f "$dir/wav.scp";

  my @utt_files = utt_table_files($dir, @utt_extra);
  my @optional = grep { -f "$dir/$_" } DataDir::optional_utt_files();
  my @spk_files = spk_table_files($dir, @spk_extra);
  my @other = grep { -f "$dir/$_" } qw(spk2utt contexts questions.jsonl oracle.ctm),
    ($utt_files[0] && -f "$dir/segments" ? ('wav.scp') : ());

  my $backup = "$dir/.backup";
  make_path($backup);
  for my $f (@utt_files, @optional, @spk_files, @other) {
    copy_file("$dir/$f", "$backup/$f");
  }

  # Clean every table (drop malformed lines and repeated keys, sort), then intersect.
  my (%stats, %clean, @notes);
  my %all;
  for my $f (@utt_files, @optional) {
    my %s;
    my $is_text = $f eq 'text' || $f eq 'text.asr';
    $clean{$f} = read_table("$dir/$f", $f, stats => \%s, utf8 => $is_text, printable => $is_text);
    for my $kind (qw(malformed duplicate)) {
      next unless $s{$kind};
      push @notes, scalar(@{$s{$kind}}) . " $kind line(s) removed from $f (first: $s{$kind}[0])";
    }
    push @notes, $s{no_newline}[0] if $s{no_newline};
    push @notes, "$f: Windows line endings (\\r) removed from " . scalar(@{$s{crlf}}) .
      " line(s) (first: $s{crlf}[0])" if $s{crlf};
    next if grep { $_ eq $f } @optional;
    $all{$_->{key}}++ for @{$clean{$f}};
  }
  my $n_before = scalar(keys %all);
  my %keep = map { $_ => 1 } keys %all;
  for my $f (@utt_files) {
    my %has = map { $_->{key} => 1 } @{$clean{$f}};
    my @missing = grep { !$has{$_} } sort keys %all;
    next unless @missing;
    delete @keep{@missing};
    push @notes, scalar(@missing) . " utterance(s) not in $f (e.g. $missing[0])";
  }
  if (-f "$dir/segments" && -f "$dir/wav.scp") {
    my %reco = map { $_->{key} => 1 } @{read_table("$dir/wav.scp", 'wav.scp')};
    my @missing = grep { $keep{$_->{key}} && !$reco{(split ' ', $_->{rest})[0]} }
      @{$clean{segments}};
    delete $keep{$_->{key}} for @missing;
    push @notes, scalar(@missing) . " segment(s) whose recording is not in wav.scp" if @missing;
  }
  if (-f "$dir/contexts") {
    # A passage with a missing sentence would shift the passage times of the rest,
    # so a context is kept whole or not at all.
    my %s;
    my $table = context_table("$dir/contexts", stats => \%s);
    push @notes, scalar(@{$s{$_}}) . " $_ line(s) removed from contexts (first: $s{$_}[0])"
      for grep { $s{$_} } qw(malformed duplicate);
    my @dropped;
    for my $c (@$table) {
      my ($cid, $utts) = @$c;
      my @gone = grep { !$keep{$_} } @$utts;
      next unless @gone && @gone < @$utts;
      push @dropped, grep { $keep{$_} } @$utts;
    }
    delete @keep{@dropped};
    push @notes, scalar(@dropped) . " utterance(s) removed because other sentences of " .
      "their passage (contexts) were removed" if @dropped;
  }
  my $n_after = scalar(keys %keep);
  note($_) for @notes;
  die "no utterances remained: not proceeding further (the files in $dir were not changed)\n"
    if $n_after == 0;

  # Write the cleaned tables to a scratch copy, filter it, then move the results in. A failed
  # write (disk full) leaves the directory as it was, without the scratch copy.
  my $tmp = "$dir/.fix_tmp.$$";
  remove_tree($tmp);
  my $r;
  eval { $r = fix_write($dir, $tmp, \%clean, \%keep, \@utt_files, \@optional, \@spk_files, \@other,
    \@utt_extra, \@spk_extra); 1 } or do {
    my $err = $@;
    remove_tree($tmp);
    die $err =~ s/\n\z//r . " (the files in $dir were not changed)\n";
  };
  my $out = "$tmp/out";
  opendir(my $dh, $out) or die "cannot list $out: $!\n";
  for my $f (grep { -f "$out/$_" } readdir $dh) {
    rename("$out/$f", "$dir/$f") or die "cannot move $out/$f to $dir/$f: $!\n";
  }
  closedir $dh;
  remove_tree($tmp);

  note("kept $n_after of $n_before utterances");
  note("kept $r->{contexts_kept} of $r->{contexts_total} contexts") if defined $r->{contexts_total};
  note("kept $r->{questions_kept} of $r->{questions_total} questions")
    if defined $r->{questions_total};
  note("old files are kept in $backup");
  # What fix cannot repair (e.g. speaker ids that are not prefixes of their utterance ids, so
  # utt2spk cannot be sorted both ways) must not pass for a repaired directory: Kaldi's fix
  # fails there too.
  eval { validate('--no-feats', '--no-text', '--no-wav', $dir); 1 } or do {
    my $err = $@;
    chomp $err;
    die "the repaired directory still fails validation: $err (the original files are in $backup)\n";
  };
}

# The writing part of fix: the cleaned tables into $tmp, then the filtered directory into
# $tmp/out. Returns filter_dir's result.
sub fix_write {
  my ($dir, $tmp, $clean, $keep, $utt_files, $optional, $spk_files, $other, $utt_extra, $spk_extra) = @_;
  make_path($tmp);
  for my $f (@$utt_files, @$optional) {
    write_lines("$tmp/$f", [map { $_->{line} } @{$clean->{$f}}]);
  }
  for my $f (@$spk_files) {
    write_lines("$tmp/$f", [map { $_->{line} } @{read_table("$dir/$f", $f)}]);
  }
  for my $f (@$other) {
    next if $f eq 'spk2utt';
    if ($f eq 'contexts') {
      write_lines("$tmp/$f", [map { $_->{line} } @{read_table("$dir/$f", $f)}]);
    } elsif ($f eq 'wav.scp') {
      write_lines("$tmp/$f", [map { $_->{line} } @{read_table("$dir/$f", $f)}]);
    } elsif ($f eq 'oracle.ctm') {
      my $lines = read_lines("$dir/$f", repair_newline => 1);
      my @i = sort { (split ' ', $lines->[$a])[0] cmp (split ' ', $lines->[$b])[0] || $a <=> $b }
        0 .. $#$lines;
      write_lines("$tmp/$f", [map { $lines->[$_] } @i]);
    } elsif ($f eq 'questions.jsonl') {
      write_lines("$tmp/$f", read_lines("$dir/$f", repair_newline => 1));
    } else {
      copy_file("$dir/$f", "$tmp/$f");
    }
  }
  return filter_dir($tmp, "$tmp/out", $keep, utt_extra => $utt_extra, spk_extra => $spk_extra);
}

sub read_key_list {
  my ($path) = @_;
  my $fh;
  if ($path eq '-') { $fh = \*STDIN; }
  else { open($fh, '<', $path) or die "cannot read $path: $!\n"; }
  my %keys;
  while (my $line = <$fh>) {
    $keys{$1} = 1 if $line =~ /^\s*(\S+)/;
  }
  close $fh unless $path eq '-';
  return \%keys;
}

sub filter {
  my $quiet = 0;
  if (@_ && $_[0] eq '--quiet') { $quiet = 1; shift; }
  fail('usage: filter [--quiet] <src> <dest> <utt-list>') unless @_ == 3;
  my ($src, $dest, $list) = @_;
  die "no such file $src/utt2spk\n" unless -f "$src/utt2spk";
  my $keep = read_key_list($list);
  my $r = filter_dir($src, $dest, $keep);
  if (!$quiet && $r->{partial_contexts}) {
    note("warning: $r->{partial_contexts} passage(s) are only partly in $dest; their " .
      "contexts lines and questions were left out");
  }
}

sub combine {
  my @extra;
  while (@_ && $_[0] =~ /^--/) {
    my $f = shift;
    my $v = shift // fail("option $f needs a value");
    if ($f eq '--extra-files') { @extra = split_list($v); }
    else { fail("unknown option $f"); }
  }
  fail('usage: combine [--extra-files "a b"] <dest> <src>...') unless @_ >= 2;
  my ($dest, @srcs) = map { s{(?<=.)/+$}{}r } @_;
  make_path($dest);
  my $dest_abs = abs_path($dest);
  for my $s (@srcs) {
    die "no such file $s/utt2spk\n" unless -f "$s/utt2spk";
    die "the destination $dest is also a source\n" if abs_path($s) eq $dest_abs;
  }
  my %files = DataDir::dir_files();
  my %known = map { $_ => 1 } @{$files{matched}}, @{$files{optional}}, @{$files{spk}},
    @{$files{copied}}, qw(contexts spk2utt questions.jsonl oracle.ctm);
  # --extra-files: more tables, keyed by utterance or by recording (so, like wav.scp, the same
  # line may come from several sources).
  my @extra_tables = grep { !$known{$_} } @extra;
  my %shared_keys = map { $_ => 1 } 'wav.scp', @extra_tables;
  my @tables = (@{$files{matched}}, @{$files{optional}}, @{$files{spk}}, 'contexts', @extra_tables);
  # As Kaldi's combine_data.sh does, a source without segments (wav.scp keyed by utterance)
  # gets one segment per utterance, "<utt> <utt> 0 -1" (the whole recording), when other
  # sources have segments; a source without utt2uniq maps each utterance to itself. Every
  # other file is combined only when all sources have it.
  my %generated = (
    segments => sub { map { "$_->{key} $_->{key} 0 -1" } @{read_table("$_[0]/utt2spk", 'utt2spk')} },
    utt2uniq => sub { map { "$_->{key} $_->{key}" } @{read_table("$_[0]/utt2spk", 'utt2spk')} },
  );
  my %described = (segments => "one segment '<utt> <utt> 0 -1' per utterance",
    utt2uniq => "'<utt> <utt>' lines");
  for my $f (@tables, 'questions.jsonl', 'oracle.ctm', @{$files{copied}}) {
    my @have = grep { -f "$_/$f" } @srcs;
    # Like Kaldi's, the result holds only what the sources give: no file of an earlier run.
    unlink "$dest/$f" unless @have;
    next unless @have;
    my @lack = grep { !-f "$_/$f" } @srcs;
    if (@lack && !$generated{$f}) {
      note("warning: not combining $f: it is missing from @lack");
      unlink "$dest/$f";
      next;
    }
    note("$f is missing from @lack: using $described{$f} for " . (@lack > 1 ? 'them' : 'it'))
      if @lack;
    if (grep { $_ eq $f } @{$files{copied}}) {
      my @content = map { join("\n", @{read_lines("$_/$f")}) } @srcs;
      die "$f differs between the sources (@srcs)\n" if grep { $_ ne $content[0] } @content;
      copy_file("$srcs[0]/$f", "$dest/$f");
      next;
    }
    if ($f eq 'questions.jsonl') {
      write_lines("$dest/$f", [map { @{read_lines("$_/$f")} } @srcs]);
      next;
    }
    if ($f eq 'oracle.ctm') {
      my @lines = map { @{read_lines("$_/$f")} } @srcs;
      my @i = sort { (split ' ', $lines[$a])[0] cmp (split ' ', $lines[$b])[0] || $a <=> $b }
        0 .. $#lines;
      write_lines("$dest/$f", [map { $lines[$_] } @i]);
      next;
    }
    my @rows;
    my %where;
    for my $s (@srcs) {
      my $src_rows = -f "$s/$f" ? read_table("$s/$f", $f)
        : [map { { key => (split ' ', $_)[0], line => $_ } } $generated{$f}->($s)];
      for my $r (@$src_rows) {
        my $first = $where{$r->{key}};
        if ($first) {
          # Sources cut from the same recordings (pieces of one directory) share wav.scp
          # lines; the same recording id must then name the same audio.
          next if $shared_keys{$f} && $first->{line} eq $r->{line};
          die "key '$r->{key}' of $f is in both $first->{src} and $s " .
            ($shared_keys{$f} ? "with different values " : '') .
            "(ids must be unique across the combined directories)\n";
        }
        $where{$r->{key}} = { src => $s, line => $r->{line} };
        push @rows, $r;
      }
    }
    @rows = sort { $a->{key} cmp $b->{key} } @rows;
    write_lines("$dest/$f", [map { $_->{line} } @rows]);
  }
  write_lines("$dest/spk2utt", spk2utt_lines(read_table("$dest/utt2spk", 'utt2spk')));
  note("combined " . scalar(@srcs) . " directories into $dest");
}


# { context id => reference passage } of a data dir (its sentences joined by single spaces, as
# speechbert.io.sqa_data.passage_text does), decoded from UTF-8; {} without text or contexts.
sub passage_texts {
  my ($dir) = @_;
  return {} unless -f "$dir/text" && -f "$dir/contexts";
  require Encode;
  my %text;
  for my $line (@{read_lines("$dir/text")}) {
    my ($utt, $rest) = split /[ \t]+/, $line, 2;
    $rest = '' unless defined $rest;
    $text{$utt} = join ' ', split ' ', Encode::decode('UTF-8', $rest);
  }
  my %out;
  for my $c (@{context_table("$dir/contexts")}) {
    my ($cid, $list) = @$c;
    $out{$cid} = join ' ', grep { length } map { defined $text{$_} ? $text{$_} : '' } @$list;
  }
  return \%out;
}

# Dies naming $where when a question is empty or an answer is not where its char_start says.
sub check_question {
  my ($where, $id, $q, $passage) = @_;
  my $text = $q->{question};
  die "$where: question '$id': no question text\n"
    if !defined $text || ref $text || $text !~ /\S/;
  my $answers = $q->{answers};
  die "$where: question '$id': \"answers\" must be a non-empty list\n"
    unless ref $answers eq 'ARRAY' && @$answers;
  for my $k (0 .. $#$answers) {
    my $a = $answers->[$k];
    die "$where: question '$id': answers[$k] must be an object with \"text\" and \"char_start\"\n"
      unless ref $a eq 'HASH' && defined $a->{text} && !ref $a->{text} && length $a->{text}
      && defined $a->{char_start} && !ref $a->{char_start} && $a->{char_start} =~ /^\d+$/;
    next unless defined $passage;
    my ($start, $len) = ($a->{char_start}, length $a->{text});
    die "$where: question '$id': answers[$k].char_start $start is outside its passage of "
      . length($passage) . " characters\n" if $start + $len > length $passage;
    my $found = substr($passage, $start, $len);
    die "$where: question '$id': answers[$k] '" . Encode::encode('UTF-8', $a->{text})
      . "' is not at char_start $start of its passage (found '" . Encode::encode('UTF-8', $found) . "')\n"
      if $found ne $a->{text};
  }
}

