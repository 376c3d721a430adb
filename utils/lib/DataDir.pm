package DataDir;

# Kaldi-style data directories (doc/design.md): which files exist, how they are keyed,
# reading them with errors that name file and line, and writing filtered copies.
# Used by validate_data_dir.sh, fix_data_dir.sh, subset_data_dir.sh, split_data.sh,
# copy_data_dir.sh and combine_data.sh (through data_dir_tool.pl).
#
# Keys are compared as bytes (the order of LC_ALL=C sort).

use strict;
use warnings;
use File::Path qw(make_path);
use Exporter qw(import);

our @EXPORT_OK = qw(
  utt_table_files spk_table_files table_spec bad_key_char read_table read_lines
  write_lines copy_file filter_dir spk2utt_lines context_table dir_files
);

# name => [min fields, max fields (0 = any), value check]
my %SPEC = (
  'utt2spk' => [2, 2],
  'text' => [1, 0],
  'text.asr' => [1, 0],
  'wav.scp' => [2, 0],
  'segments' => [4, 4, 'segment'],
  'utt2dur' => [2, 2, 'positive'],
  'feats.scp' => [2, 2],
  'utt2num_frames' => [2, 2, 'positive_int'],
  'utt2uniq' => [2, 2],
  'spk2utt' => [2, 0],
  'spk2gender' => [2, 2, 'gender'],
  'cmvn.scp' => [2, 2],
  'contexts' => [2, 0],
);

# Per-utterance files whose utterance lists must match exactly (wav.scp only when
# there is no segments file; then it is keyed by recording).
my @MATCHED_UTT_FILES = qw(utt2spk text segments wav.scp utt2dur feats.scp utt2num_frames utt2uniq);
# Per-utterance files that may cover a subset of the utterances.
my @OPTIONAL_UTT_FILES = qw(text.asr);
my @SPK_FILES = qw(spk2gender cmvn.scp);
# Small per-directory files copied unchanged.
my @COPIED_FILES = qw(frame_shift feats_type);

sub table_spec { my ($name) = @_; return $SPEC{$name} // [1, 0]; }

sub matched_utt_files { return @MATCHED_UTT_FILES; }

# The per-utterance files present in $dir (matched ones first), plus @extra.
sub utt_table_files {
  my ($dir, @extra) = @_;
  my $has_segments = -f "$dir/segments";
  my @files;
  for my $f (@MATCHED_UTT_FILES, @extra) {
    next if $f eq 'wav.scp' && $has_segments;
    push @files, $f if -f "$dir/$f";
  }
  return @files;
}

sub optional_utt_files { return @OPTIONAL_UTT_FILES; }

sub spk_table_files {
  my ($dir, @extra) = @_;
  return grep { -f "$dir/$_" } (@SPK_FILES, @extra);
}

sub dir_files {
  return (matched => [@MATCHED_UTT_FILES], optional => [@OPTIONAL_UTT_FILES],
    spk => [@SPK_FILES], copied => [@COPIED_FILES]);
}

# Characters a key must not contain: whitespace and shell metacharacters.
sub bad_key_char {
  my ($key) = @_;
  # '/' too: keys name files (wavs, archives), and "../x" must never write outside its directory.
  return $1 if $key =~ m{([\s|&;<>()\$`\\"'*?\[\]#~{}!/])};
  # Other whitespace (no-break space, ...): Python's str.split() would split the key there.
  my $chars = $key;
  if (utf8::decode($chars) && $chars =~ /(\s)/) {
    return sprintf('U+%04X', ord $1);
  }
  return undef;
}

# Reads the lines of $path without their newlines. A last line without a newline is an error,
# unless repair_newline => 1 (then it is read as if it had one; counted in $opt{stats}).
sub read_lines {
  my ($path, %opt) = @_;
  open(my $fh, '<:raw', $path) or die "cannot read $path: $!\n";
  my @lines;
  my $missing_newline = 0;
  while (my $line = <$fh>) {
    $missing_newline = 1 unless $line =~ s/\n\z//;
    push @lines, $line;
  }
  close $fh;
  if ($missing_newline) {
    die "$path:" . scalar(@lines) . ": the last line does not end with a newline\n"
      unless $opt{repair_newline};
    push @{$opt{stats}{no_newline}}, "$path:" . scalar(@lines) . ": no newline at the end (added)"
      if $opt{stats};
  }
  return \@lines;
}

# Writes $path (one line per element of @$lines) through a temporary file beside it that is
# renamed into place: a failed write (disk full, ...) dies naming $path and leaves the old
# $path as it was, with no temporary file behind.
sub write_lines {
  my ($path, $lines) = @_;
  _write_atomically($path, sub {
    my ($fh) = @_;
    print $fh "$_\n" for @$lines;
  });
}

# Copies $src to $dst the same way (temporary file + rename).
sub copy_file {
  my ($src, $dst) = @_;
  open(my $in, '<:raw', $src) or die "cannot read $src: $!\n";
  _write_atomically($dst, sub {
    my ($fh) = @_;
    while (1) {
      my $n = read($in, my $chunk, 65536);
      die "cannot read $src: $!\n" unless defined $n;
      last unless $n;
      print $fh $chunk;
    }
  });
  close $in;
}

sub _write_atomically {
  my ($path, $fill) = @_;
  my $tmp = "$path.tmp.$$";
  my $ok = eval {
    open(my $fh, '>:raw', $tmp) or die "cannot write $path: $!\n";
    $fill->($fh);
    # Buffered data reaches the disk at close: that is where a full disk shows.
    close $fh or die "cannot write $path: $!\n";
    rename($tmp, $path) or die "cannot write $path: renaming $tmp failed: $!\n";
    1;
  };
  return if $ok;
  my $err = $@;
  unlink $tmp;
  die $err;
}

# Checks one line of table $name; returns (key, error message or undef).
sub check_line {
  my ($name, $line, %opt) = @_;
  return (undef, 'empty line') if $line eq '';
  return (undef, 'Windows line ending (\r); convert the file with dos2unix') if $line =~ /\r/;
  return (undef, 'line starts with whitespace (empty key)') if $line =~ /^\s/;
  my @f = split ' ', $line;
  my $key = $f[0];
  my ($min, $max, $check) = @{table_spec($name)};
  if (defined(my $c = bad_key_char($key))) {
    return ($key, "key '$key' contains the character '$c' (keys must not contain " .
      "whitespace or shell metacharacters)");
  }
  if (@f < $min || ($max && @f > $max)) {
    my $want = $max == $min ? "$min" : $max ? "$min to $max" : "at least $min";
    return ($key, "expected $want fields, found " . scalar(@f));
  }
  if (defined $check) {
    if ($check eq 'positive') {
      return ($key, "value '$f[1]' is not a positive number")
        unless $f[1] =~ /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/ && $f[1] > 0;
    } elsif ($check eq 'positive_int') {
      return ($key, "value '$f[1]' is not a positive integer")
        unless $f[1] =~ /^\d+$/ && $f[1] > 0;
    } elsif ($check eq 'gender') {
      return ($key, "value '$f[1]' is not a gender (m or f)") unless $f[1] eq 'm' || $f[1] eq 'f';
    } elsif ($check eq 'segment') {
      my ($s, $e) = @f[2, 3];
      my $num = qr/^(\d+\.?\d*|\.\d+)$/;
      return ($key, "bad segment times '$s $e' (need 0 <= start < end, or end -1)")
        unless $s =~ $num && ($e eq '-1' || ($e =~ $num && $e > $s));
    }
  }
  if ($name eq 'wav.scp' && $f[1] =~ /^~/) {
    # Kaldi refuses it too: nothing expands '~' when the file is opened.
    return ($key, "the path '$f[1]' starts with '~', which is not expanded (write the path in full)");
  }
  if ($opt{utf8}) {
    my $copy = $line;
    return ($key, 'text is not valid UTF-8') unless utf8::decode($copy);
    # Words are separated by spaces and tabs only, as for Kaldi's validate_text.pl: Python's
    # str.split() would also split at a no-break space, Perl's split would not.
    return ($key, sprintf('text contains the whitespace character U+%04X (only spaces and tabs ' .
      'may separate words)', ord $1)) if $copy =~ /([^\S \t])/;
    # A tab is whitespace (a field separator), as for Kaldi and the Python readers; other
    # control characters are not text.
    return ($key, 'text contains a control character') if $opt{printable} && $copy =~ /[^\t\P{Cc}]/;
  }
  return ($key, undef);
}

# Reads table $dir/$name. Returns [ { key, line, fields rest, lineno } ... ] in file order.
#   strict => 1: die on the first bad line, unsorted or duplicate key ("file:line: ...")
#   strict => 0: drop bad lines and later duplicates, remove a \r before the newline, sort;
#                counts go to $opt{stats}
#   utf8 => 1: lines must be valid UTF-8; printable => 1: and without control characters
sub read_table {
  my ($path, $name, %opt) = @_;
  my $lines = read_lines($path, repair_newline => !$opt{strict}, stats => $opt{stats});
  my @rows;
  my %seen;
  my $prev;
  my $stats = $opt{stats};
  for my $i (0 .. $#$lines) {
    my $line = $lines->[$i];
    my $lineno = $i + 1;
    if (!$opt{strict} && $line =~ s/\r$//) {
      push @{$stats->{crlf}}, "$path:$lineno" if $stats;
    }
    my ($key, $err) = check_line($name, $line, utf8 => $opt{utf8}, printable => $opt{printable});
    if (defined $err) {
      die "$path:$lineno: $err\n" if $opt{strict};
      push @{$stats->{malformed}}, "$path:$lineno: $err" if $stats;
      next;
    }
    if ($opt{strict} && defined $prev) {
      die "$path:$lineno: duplicate key '$key' (keys must be unique)\n" if $key eq $prev;
      die "$path:$lineno: key '$key' is not in sorted order after '$prev' " .
        "(sort with: LC_ALL=C sort -k1,1 -u, or run utils/fix_data_dir.sh)\n" if $key lt $prev;
    }
    if ($seen{$key}++) {
      push @{$stats->{duplicate}}, "$path:$lineno: duplicate key '$key'" if $stats;
      next;
    }
    (my $rest = $line) =~ s/^\S+\s*//;
    push @rows, { key => $key, line => $line, rest => $rest, lineno => $lineno };
    $prev = $key;
  }
  @rows = sort { $a->{key} cmp $b->{key} } @rows unless $opt{strict};
  return \@rows;
}

# spk2utt lines from utt2spk rows (speakers sorted, utterances in utt2spk order).
sub spk2utt_lines {
  my ($utt2spk_rows) = @_;
  my (%utts, @order);
  for my $r (@$utt2spk_rows) {
    my $spk = $r->{rest};
    push @order, $spk unless $utts{$spk};
    push @{$utts{$spk}}, $r->{key};
  }
  return [map { join(' ', $_, @{$utts{$_}}) } sort @order];
}

# Reads 'contexts' ("<context_id> <utt>...") into [ [cid, [utts], lineno] ].
sub context_table {
  my ($path, %opt) = @_;
  my $rows = read_table($path, 'contexts', %opt);
  return [map { [$_->{key}, [split ' ', $_->{rest}], $_->{lineno}] } @$rows];
}

# Reads questions.jsonl as [ [raw line, context_id or undef, error or undef, lineno, id, object] ].
sub question_lines {
  my ($path) = @_;
  require JSON::PP;
  my $json = JSON::PP->new->utf8;
  my $lines = read_lines($path);
  my @out;
  for my $i (0 .. $#$lines) {
    my $line = $lines->[$i];
    my ($obj, $err);
    if ($line =~ /^\s*$/) {
      $err = 'empty line';
    } else {
      $obj = eval { $json->decode($line) };
      if (!defined $obj) {
        ($err = $@ || 'not JSON') =~ s/\s+at \S+ line \d+.*//s;
      } elsif (ref $obj ne 'HASH') {
        $err = 'not a JSON object';
      } elsif (!defined $obj->{context_id} || ref $obj->{context_id}) {
        $err = 'no "context_id" string';
      } elsif (!defined $obj->{id} || ref $obj->{id}) {
        $err = 'no "id" string';
      }
    }
    push @out, [$line, ($err ? undef : $obj->{context_id}), $err, $i + 1,
      ($err ? undef : $obj->{id}), ($err ? undef : $obj)];
  }
  return \@out;
}

# Writes to $dest the part of $src that covers the utterances in %$keep:
# per-utterance files, wav.scp (by recording when there are segments), speaker files,
# a regenerated spk2utt, contexts whose utterances are all kept, the questions of
# those contexts, oracle.ctm lines of kept utterances, and the small copied files. Those of
# these files that $src lacks are removed from $dest.
# Returns { contexts_total, contexts_kept, partial_contexts, questions_total, questions_kept }.
sub filter_dir {
  my ($src, $dest, $keep, %opt) = @_;
  my @extra_utt = @{$opt{utt_extra} // []};
  my @extra_spk = @{$opt{spk_extra} // []};
  make_path($dest) unless -d $dest;
  # A file that $src does not have must not survive from an earlier run into $dest: it would
  # describe other utterances.
  for my $f (@MATCHED_UTT_FILES, @OPTIONAL_UTT_FILES, @SPK_FILES, @COPIED_FILES, @extra_utt,
      @extra_spk, qw(spk2utt contexts questions.jsonl oracle.ctm)) {
    unlink "$dest/$f" if -f "$dest/$f" && !-f "$src/$f";
  }
  my %result;
  my $has_segments = -f "$src/segments";
  my %recordings;

  my @utt_files = (utt_table_files($src, @extra_utt), grep { -f "$src/$_" } @OPTIONAL_UTT_FILES);
  my $utt2spk_rows;
  for my $f (@utt_files) {
    my $rows = read_table("$src/$f", $f);
    my @kept = grep { $keep->{$_->{key}} } @$rows;
    $utt2spk_rows = \@kept if $f eq 'utt2spk';
    if ($f eq 'segments') {
      $recordings{(split ' ', $_->{rest})[0]} = 1 for @kept;
    }
    write_lines("$dest/$f", [map { $_->{line} } @kept]);
  }
  if ($has_segments && -f "$src/wav.scp") {
    my $rows = read_table("$src/wav.scp", 'wav.scp');
    write_lines("$dest/wav.scp", [map { $_->{line} } grep { $recordings{$_->{key}} } @$rows]);
  }
  my %speakers;
  if ($utt2spk_rows) {
    $speakers{$_->{rest}} = 1 for @$utt2spk_rows;
    write_lines("$dest/spk2utt", spk2utt_lines($utt2spk_rows));
  }
  for my $f (spk_table_files($src, @extra_spk)) {
    my $rows = read_table("$src/$f", $f);
    write_lines("$dest/$f", [map { $_->{line} } grep { $speakers{$_->{key}} } @$rows]);
  }

  my %contexts;
  if (-f "$src/contexts") {
    my $table = context_table("$src/contexts");
    my @kept;
    for my $c (@$table) {
      my ($cid, $utts) = @$c;
      my $n = grep { $keep->{$_} } @$utts;
      next if $n == 0;
      if ($n < @$utts) {
        $result{partial_contexts}++;
        next;
      }
      $contexts{$cid} = 1;
      push @kept, join(' ', $cid, @$utts);
    }
    write_lines("$dest/contexts", \@kept);
    $result{contexts_total} = scalar(@$table);
    $result{contexts_kept} = scalar(@kept);
  }
  if (-f "$src/questions.jsonl") {
    my $q = question_lines("$src/questions.jsonl");
    my $has_contexts = -f "$src/contexts";
    my @kept = map { $_->[0] }
      grep { defined $_->[1] && (!$has_contexts || $contexts{$_->[1]}) } @$q;
    write_lines("$dest/questions.jsonl", \@kept);
    $result{questions_total} = scalar(@$q);
    $result{questions_kept} = scalar(@kept);
  }
  if (-f "$src/oracle.ctm") {
    my $lines = read_lines("$src/oracle.ctm");
    my @kept = grep { /^(\S+)/ && $keep->{$1} } @$lines;
    write_lines("$dest/oracle.ctm", \@kept);
  }
  for my $f (@COPIED_FILES) {
    copy_file("$src/$f", "$dest/$f") if -f "$src/$f";
  }
  if (-d "$src/conf") {
    make_path("$dest/conf");
    opendir(my $dh, "$src/conf") or die "cannot list $src/conf: $!\n";
    for my $f (grep { -f "$src/conf/$_" } readdir $dh) {
      copy_file("$src/conf/$f", "$dest/conf/$f");
    }
    closedir $dh;
  }
  return \%result;
}

1;
